import t, { type Test } from 'tap';
import { rejectsConfig } from '../helpers/config-rejects.ts';
import { ConfigError, parseConfig } from '../../conf/parse.ts';
import { prng } from '../helpers/prng.ts';

const schemes = ['testsrc', 'http', 'https', 'rtsp', 'vbc'];
const parse = (text: string) => parseConfig(text, 'relay.conf', { schemes });

const camera = '<Camera cam>\n  Source testsrc://\n</Camera>\n';

function rejects(t: Test, text: string, expected: string): void {
  rejectsConfig(t, text, expected, schemes);
}

t.test('the defaults are applied and the object is frozen', async (t) => {
  const { config } = parse(`${camera}<Stream live.flv>\n Feed cam\n</Stream>\n`);
  t.equal(config.httpPort, 8090);
  t.equal(config.httpBindAddress, '127.0.0.1');
  t.equal(config.maxClients, 1000);
  t.equal(config.cameras[0]!.closeAfterMs, 10_000);
  t.equal(config.cameras[0]!.onDemand, false);
  t.equal(config.streams[0]!.format, 'flv', 'format from the .flv extension');
  t.equal(config.streams[0]!.videoCodec, 'libx264');
  t.ok(Object.isFrozen(config) && Object.isFrozen(config.streams[0]) && Object.isFrozen(config.cameras));
});

t.test('values of every kind parse', async (t) => {
  const { config } = parse(`HTTPPort 0
MaxBandwidth 5000
<Camera cam>
  Source "rtsp://user:p%40ss@cam.example:554/live"   # credentials move out of the URL
  InputFrameRate 6
  OnDemand yes
  CloseAfter 2.5
  MaxFrameSize 512k
  RTSPTransport UDP
  VBCLogin 10 10 0b 45 29 3d 52 3c 4a 4f 16
  VBCImageSize qvga
</Camera>
<Stream cam.m3u8>
  Feed cam
  VideoSize 320x240
  VideoFrameRate 4
  VideoQMin 10
  VideoQMax 30
  HLSSegmentTime 1.5
</Stream>
`);
  const cam = config.cameras[0]!;
  t.equal(cam.source, 'rtsp://cam.example:554/live');
  t.equal(cam.username, 'user');
  t.equal(cam.password, 'p@ss');
  t.equal(cam.closeAfterMs, 2500);
  t.equal(cam.maxFrameBytes, 512 * 1024);
  t.equal(cam.rtspTransport, 'udp');
  t.same(cam.vbcImageSize, { width: 320, height: 240 });
  t.equal(cam.vbcLogin.toString('hex'), '10100b45293d523c4a4f16');
  const stream = config.streams[0]!;
  t.equal(stream.format, 'hls');
  t.equal(stream.hlsSegmentSeconds, 1.5);
  t.same(stream.videoSize, { width: 320, height: 240 });
});

// Each row: the config text, and one error it must produce, word for word.
const BAD: Array<[string, string, string]> = [
  ['unknown directive with a suggestion', 'HTTPPrt 80\n', 'relay.conf:1: HTTPPrt: unknown directive in the global section (did you mean HTTPPort?)'],
  ['unknown directive, nothing close', 'Frobnicate 1\n', 'relay.conf:1: Frobnicate: unknown directive in the global section'],
  ['directive in the wrong block', `${camera}<Stream a.flv>\n Feed cam\n Source testsrc://\n</Stream>\n`, 'relay.conf:6: Source: not allowed in a <Stream> block; it belongs in a <Camera> block'],
  ['global directive inside a block', '<Camera c>\n Source testsrc://\n HTTPPort 1\n</Camera>\n', 'relay.conf:3: HTTPPort: not allowed in a <Camera> block; it belongs in the global section'],
  ['out of range', 'HTTPPort 70000\n', 'relay.conf:1: HTTPPort: 70000 is out of range (0 to 65535)'],
  ['not a number', 'MaxClients many\n', 'relay.conf:1: MaxClients: "many" is not a whole number'],
  ['two values', 'MaxClients 1 2\n', 'relay.conf:1: MaxClients: takes exactly one value, got 2'],
  ['bad boolean', '<Camera c>\n Source testsrc://\n OnDemand maybe\n</Camera>\n', 'relay.conf:3: OnDemand: "maybe" is not yes or no'],
  ['bad size', `${camera}<Stream a.flv>\n Feed cam\n VideoSize 640by480\n</Stream>\n`, 'relay.conf:6: VideoSize: "640by480" is not a size (WxH such as 640x480, or qvga, vga, cif, hd720 ...)'],
  ['odd size', `${camera}<Stream a.flv>\n Feed cam\n VideoSize 641x480\n</Stream>\n`, 'relay.conf:6: VideoSize: 641x480: width and height must be even'],
  ['missing Source', '<Camera c>\n InputFrameRate 5\n</Camera>\n', 'relay.conf:1: <Camera c>: missing required directive Source'],
  ['missing Feed', '<Stream a.flv>\n VideoBitRate 100\n</Stream>\n', 'relay.conf:1: <Stream a.flv>: missing required directive Feed (the camera this stream shows)'],
  ['Feed names no camera', `${camera}<Stream a.flv>\n Feed nocam\n</Stream>\n`, 'relay.conf:5: Feed: <Stream a.flv> names camera "nocam", which is not defined (cameras: cam)'],
  ['duplicate stream', `${camera}<Stream a.flv>\n Feed cam\n</Stream>\n<Stream a.flv>\n Feed cam\n</Stream>\n`, 'relay.conf:7: <Stream a.flv>: the name a.flv is already used on line 4'],
  ['stream and redirect share a URL', `${camera}<Stream a.flv>\n Feed cam\n</Stream>\n<Redirect a.flv>\n URL /\n</Redirect>\n`, 'relay.conf:7: <Redirect a.flv>: the name a.flv is already used on line 4'],
  ['duplicate directive', '<Camera c>\n Source testsrc://\n Source testsrc://\n</Camera>\n', 'relay.conf:3: Source: given twice in this a <Camera> block (first on line 2)'],
  ['unclosed block', '<Camera c>\n Source testsrc://\n', 'relay.conf:1: <Camera c> is never closed'],
  ['mismatched close', '<Camera c>\n Source testsrc://\n</Stream>\n', 'relay.conf:3: </Stream> does not match <Camera c> opened on line 1'],
  ['nested blocks', '<Camera c>\n<Stream s>\n</Stream>\n</Camera>\n', 'relay.conf:2: <Stream> inside <Camera c> opened on line 1: blocks do not nest'],
  ['close without open', '</Camera>\n', 'relay.conf:1: </Camera> closes no open block'],
  ['unknown block', '<Camra c>\n</Camra>\n', 'relay.conf:1: unknown block <Camra> (did you mean <Camera>?)'],
  ['block without a name', '<Camera>\n Source testsrc://\n</Camera>\n', 'relay.conf:1: <Camera> needs a name, e.g. <Camera name>'],
  ['unknown scheme', '<Camera c>\n Source ftp://x/\n</Camera>\n', 'relay.conf:2: Source: no adapter for ftp:// (known: testsrc://, http://, https://, rtsp://, vbc://)'],
  ['not a URL, password hidden', '<Camera c>\n Source //user:hunter2@cam\n</Camera>\n', 'relay.conf:2: Source: "//user:***@cam" is not a URL (e.g. http://camera/video.mjpg, rtsp://camera/stream, vbc://camera, testsrc://)'],
  ['format not implied', `${camera}<Stream lobby>\n Feed cam\n</Stream>\n`, 'relay.conf:4: <Stream lobby>: missing Format (flv, hls, mpjpeg, jpeg or status), and the name\'s extension implies none'],
  ['transcode option on passthrough', `${camera}<Stream a.mjpg>\n Feed cam\n VideoSize 320x240\n</Stream>\n`, 'relay.conf:6: VideoSize: does not apply to Format mpjpeg (frames pass through without transcoding)'],
  ['copy with a size', `${camera}<Stream a.flv>\n Feed cam\n VideoCodec copy\n VideoSize 320x240\n</Stream>\n`, "relay.conf:7: VideoSize: does not apply with VideoCodec copy (the camera's H.264 is passed on unchanged)"],
  ['qmin above qmax', `${camera}<Stream a.flv>\n Feed cam\n VideoQMin 40\n VideoQMax 20\n</Stream>\n`, 'relay.conf:6: VideoQMin: 40 is above VideoQMax 20'],
  ['unterminated quote', 'FFmpegPath "/usr/bin/ffmpeg\n', 'relay.conf:1: FFmpegPath: unterminated quoted string'],
  ['bad stream name', `${camera}<Stream ../etc>\n Feed cam\n Format flv\n</Stream>\n`, "relay.conf:4: <Stream ../etc>: names use letters, digits, '.', '_' and '-' (at most 128)"],
  ['VOD cache cap that is not a size', 'VodCacheMaxSize lots\n', 'relay.conf:1: VodCacheMaxSize: "lots" is not a size (e.g. 0, 500M, 20G, 2T)'],
  ['RecordCodec copy of a JPEG-only camera', '<Camera c>\n Source vbc://cam\n Record yes\n RecordCodec copy\n</Camera>\n',
    'relay.conf:4: RecordCodec copy: <Camera c> (vbc://) sends JPEG, and copy records the camera\'s H.264 unchanged; use libx264'],
  ['VideoCodec copy of a JPEG-only camera', '<Camera c>\n Source vbc://cam\n</Camera>\n<Stream c.flv>\n Feed c\n VideoCodec copy\n</Stream>\n',
    'relay.conf:6: VideoCodec copy: <Stream c.flv> shows <Camera c> (vbc://), which sends JPEG; copy passes the camera\'s H.264 on unchanged; use libx264'],
  ['VBC login of the wrong length', '<Camera c>\n Source vbc://cam\n VBCLogin 10 10\n</Camera>\n', 'relay.conf:3: VBCLogin: needs exactly 11 bytes, got 2'],
  ['hostile: NUL byte', 'HTTPPort 1\0\n', 'relay.conf:1: line contains a NUL byte'],
  ['hostile: very long line', `MaxClients ${'9'.repeat(5000)}\n`, 'relay.conf:1: line longer than 4096 characters'],
];

for (const [name, text, expected] of BAD) t.test(`rejects: ${name}`, async (t) => rejects(t, text, expected));

t.test('every error is reported, not just the first', async (t) => {
  try {
    parse('HTTPPort x\nMaxClients y\n<Camera c>\n</Camera>\n');
    t.fail('accepted');
  } catch (error) {
    t.equal((error as ConfigError).problems.length, 3);
    t.same((error as ConfigError).problems.map((p) => p.line), [1, 2, 3], 'sorted by line');
  }
});

t.test('ffserver directives that mean nothing here are warnings, not errors', async (t) => {
  const { warnings } = parse(`CustomLog -\n${camera}`);
  t.equal(warnings.length, 1);
  t.match(warnings[0]!.message, /CustomLog: an ffserver directive with no meaning here; ignored/);
});

t.test('the example config is valid', async (t) => {
  const { parseConfigFile } = await import('../../conf/parse.ts');
  const { config } = parseConfigFile(new URL('../../relay.conf.example', import.meta.url).pathname, { schemes });
  t.same(config.streams.map((s) => s.name), ['test.flv', 'test.m3u8', 'test.mjpg', 'test.jpg', 'stat.html']);
});

t.test('fuzz: random and mutated configs never throw anything but ConfigError', async (t) => {
  const random = prng(12345);
  const base = `HTTPPort 8090\n${camera}<Stream a.flv>\n Feed cam\n VideoSize 320x240\n</Stream>\n<Redirect r>\n URL /\n</Redirect>\n`;
  const alphabet = '<>/"# \n\tCameraStreamFeedSource0123456789x.:\\\0é';
  let accepted = 0;
  for (let i = 0; i < 20_000; i++) {
    const chars = [...base];
    const edits = 1 + Math.floor(random() * 6);
    for (let e = 0; e < edits; e++) {
      const at = Math.floor(random() * chars.length);
      const op = random();
      const c = alphabet[Math.floor(random() * alphabet.length)]!;
      if (op < 0.4) chars[at] = c;
      else if (op < 0.7) chars.splice(at, 1);
      else chars.splice(at, 0, c);
    }
    try {
      parse(chars.join(''));
      accepted++;
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
    }
  }
  t.ok(accepted > 0 && accepted < 20_000, `accepted ${accepted} of 20000 mutants`);
});

// Guards the URL space: a stream named like one of the relay's own prefixes would shadow its pages and APIs.
t.test('stream and redirect names that collide with reserved URLs are refused with file:line', async (t) => {
  for (const name of ['api', 'VOD', 'record', 'recordings', 'player', 'assets', 'live', 'wall', 'admin', 'metrics']) {
    rejects(t, `${camera}<Stream ${name}>\n Feed cam\n Format flv\n</Stream>\n`,
      `relay.conf:4: <Stream ${name}>: /${name} is reserved for the relay's own pages and APIs (/api, /vod, /record, /recordings, /player, /assets, /live, /wall, /admin, /metrics, /stat.*)`);
  }
  rejects(t, `${camera}<Stream api.m3u8>\n Feed cam\n</Stream>\n`,
    "relay.conf:4: <Stream api.m3u8>: its HLS segments would be served under /api/, which is reserved for the relay's own pages and APIs");
  rejects(t, `${camera}<Stream stat.json>\n Feed cam\n Format flv\n</Stream>\n`,
    'relay.conf:4: <Stream stat.json>: /stat.json is reserved: /stat.* belongs to the status page and its JSON');
  rejects(t, `<Redirect wall>\n URL http://example.com/\n</Redirect>\n`,
    "relay.conf:1: <Redirect wall>: /wall is reserved for the relay's own pages and APIs (/api, /vod, /record, /recordings, /player, /assets, /live, /wall, /admin, /metrics, /stat.*)");
  const { config } = parse(`${camera}<Stream stat.html>\n Format status\n</Stream>\n<Stream api.flv>\n Feed cam\n</Stream>\n<Stream wallcam.m3u8>\n Feed cam\n</Stream>\n`);
  t.same(config.streams.map((stream) => stream.name), ['stat.html', 'api.flv', 'wallcam.m3u8'], 'the status page, and names that only start alike, are fine');
});

// Video on demand: the directives of files played on demand and as live cameras.
const parseWithFiles = (text: string) => parseConfig(text, 'relay.conf', { schemes: [...schemes, 'vod-live'] });

t.test('MediaPath, VodCachePath and VodStreamTimeout defaults', async (t) => {
  const { config } = parseWithFiles('');
  t.equal(config.mediaPath, './media');
  t.equal(config.vodCachePath, undefined);
  t.equal(config.vodStreamTimeoutMs, 30_000);
  const set = parseWithFiles('MediaPath /srv/media\nVodCachePath /var/cache/relay\nVodStreamTimeout 2.5\n').config;
  t.same([set.mediaPath, set.vodCachePath, set.vodStreamTimeoutMs], ['/srv/media', '/var/cache/relay', 2500]);
});

t.test('a vod-live camera runs on demand and lingers VodStreamTimeout unless its block says otherwise', async (t) => {
  const { config } = parseWithFiles(`VodStreamTimeout 5
<Camera film>
  Source vod-live://movie.mp4
  Loop yes
</Camera>
<Camera pinned>
  Source vod-live://movie.mp4
  OnDemand no
  CloseAfter 1
</Camera>
<Camera cam>
  Source testsrc://
</Camera>
`);
  const [film, pinned, cam] = config.cameras;
  t.match(film, { onDemand: true, closeAfterMs: 5000, loop: true });
  t.match(pinned, { onDemand: false, closeAfterMs: 1000, loop: false });
  t.match(cam, { onDemand: false, closeAfterMs: 10_000, loop: false });
});

t.test('bad values name file:line and the directive', async (t) => {
  rejects(t, 'VodStreamTimeout soon\n', 'relay.conf:1: VodStreamTimeout: "soon" is not a duration (e.g. 2, 2s, 500ms, 1m)');
  rejects(t, 'VodStreamTimeout 100000\n', 'relay.conf:1: VodStreamTimeout: 100000 is out of range (0 to 86400)');
  rejects(t, 'MediaPath\n', 'relay.conf:1: MediaPath: takes exactly one value, got 0');
  rejects(t, 'VodCachePath a b\n', 'relay.conf:1: VodCachePath: takes exactly one value, got 2');
  rejects(t, '<Camera film>\n  Source testsrc://\n  Loop sometimes\n</Camera>\n', 'relay.conf:3: Loop: "sometimes" is not yes or no');
  rejects(t, '<Camera cam>\n  Source testsrc://\n  Loop yes\n</Camera>\n', 'relay.conf:3: Loop: applies to vod-live:// sources only');
  rejects(t, 'Loop yes\n', 'relay.conf:1: Loop: not allowed in the global section; it belongs in a <Camera> block');
});
