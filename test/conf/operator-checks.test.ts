import t from 'tap';
import { rejectsConfig } from '../helpers/config-rejects.ts';
import { ConfigError, parseConfig } from '../../conf/parse.ts';

const schemes = ['testsrc', 'http', 'https', 'rtsp', 'vbc'];
const parse = (text: string) => parseConfig(text, 'relay.conf', { schemes });
const camera = '<Camera cam>\n  Source testsrc://\n</Camera>\n';

function errorsOf(text: string): string[] {
  try {
    parse(text);
    return [];
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return error.problems.map((problem) => `${problem.line}: ${problem.message}`);
  }
}

// Guards: one missing </Camera> gave eight errors (every later block "nested", every stream directive "misplaced").
t.test('one missing close tag is one error, and the blocks after it are read normally', async (t) => {
  const errors = errorsOf('<Camera a>\n Source testsrc://\n<Stream a.flv>\n Feed a\n</Stream>\n<Stream b.flv>\n Feed a\n VideoBitRate 300\n</Stream>\n');
  t.same(errors, ['1: <Camera a> is not closed before <Stream> on line 3 (missing </Camera>?)']);
  const mistyped = errorsOf('<Camera a>\n Source testsrc://\n</Camra>\n<Stream a.flv>\n Feed a\n</Stream>\n');
  t.same(mistyped, ['3: </Camra> does not match <Camera a> opened on line 1']);
});

// Guards: one bad Source line also gave a "names camera ..., which is not defined" error for every stream of it.
t.test('one bad line is one error: streams of a camera whose block failed add none', async (t) => {
  const streams = '<Stream a.flv>\n Feed a\n</Stream>\n<Stream a.m3u8>\n Feed a\n</Stream>\n<Stream a.mjpg>\n Feed a\n</Stream>\n';
  t.same(errorsOf(`<Camera a>\n Source htp://cam/video\n</Camera>\n${streams}`), ['2: Source: no adapter for htp:// (known: testsrc://, http://, https://, rtsp://, vbc://)']);
  t.same(errorsOf(`<Camra a>\n Source testsrc://\n</Camra>\n${streams}`), ['1: unknown block <Camra> (did you mean <Camera>?)']);
  t.equal(errorsOf(`${camera}<Stream a.flv>\n Feed nosuch\n</Stream>\n`).length, 1, 'a Feed naming no block at all is still an error');
});

// Guards: RTSPPort equal to HTTPPort passed --check and failed only at start with EADDRINUSE.
t.test('two listeners on one port are refused, naming both directives', async (t) => {
  rejectsConfig(t, `HTTPPort 8554\nRTSPPort 8554\n${camera}`, 'relay.conf:2: RTSPPort: 8554 is also the HTTPPort; each listener needs a port of its own', schemes);
  rejectsConfig(t, `RTSPPort 8090\n${camera}`, 'relay.conf:1: RTSPPort: 8090 is also the HTTPPort; each listener needs a port of its own', schemes);
  t.doesNotThrow(() => parse(`HTTPPort 0\nRTSPPort 0\n${camera}`), 'port 0 (any free port) twice is no clash');
});

// Guards: VideoCodec copy of an MJPEG camera passed --check; the stream then never played.
t.test('VideoCodec copy of an HTTP camera whose URL names MJPEG or JPEG is refused', async (t) => {
  const stream = '<Stream c.flv>\n Feed c\n VideoCodec copy\n</Stream>\n';
  rejectsConfig(t, `<Camera c>\n Source http://cam/video.mjpg\n</Camera>\n${stream}`,
    "relay.conf:6: VideoCodec copy: <Stream c.flv> shows <Camera c> (http://), which sends JPEG; copy passes the camera's H.264 on unchanged; use libx264", schemes);
  rejectsConfig(t, '<Camera c>\n Source https://cam/snap.JPG\n Record yes\n RecordCodec copy\n</Camera>\n',
    "relay.conf:4: RecordCodec copy: <Camera c> (https://) sends JPEG, and copy records the camera's H.264 unchanged; use libx264", schemes);
  t.doesNotThrow(() => parse(`<Camera c>\n Source http://cam/live.flv\n</Camera>\n${stream}`), 'an FLV edge may be copied');
});

// Guards: "RTSPSessionTimeout 2m", "RecordBitRate 500k" and "RecordSegmentSeconds 1m" were refused while "RecordDeleteAfter 7d" worked.
t.test('unit suffixes work in every duration, size and bit-rate directive alike', async (t) => {
  const { config } = parse(`RTSPSessionTimeout 2m
RequestHeaderTimeout 1500ms
VodStreamTimeout 1.5
RecordMaxRequestSeconds 1h
RecordMinFreeSpace 1.5G
MaxBandwidth 2M
<Camera cam>
  Source testsrc://
  Timeout 2s
  ConnectTimeout 500ms
  CloseAfter 1m
  MaxFrameSize 10M
  Record yes
  RecordBitRate 500k
  RecordSegmentSeconds 1m
  RecordDeleteAfter 36h
  RecordMaxSize 1.5T
</Camera>
<Stream cam.m3u8>
  Feed cam
  VideoBitRate 2M
  HLSSegmentTime 1500ms
  ViewerBudget 512k
  ViewerWriteTimeout 30s
</Stream>
`);
  t.equal(config.rtspSessionTimeoutMs, 120_000);
  t.equal(config.security.requestHeaderTimeoutMs, 1500);
  t.equal(config.vodStreamTimeoutMs, 1500);
  t.equal(config.recording.maxRequestSeconds, 3600);
  t.equal(config.recording.minFreeBytes, 1.5 * 1024 ** 3);
  t.equal(config.maxBandwidth, 2000);
  const cam = config.cameras[0]!;
  t.same([cam.timeoutMs, cam.connectTimeoutMs, cam.closeAfterMs, cam.maxFrameBytes], [2000, 500, 60_000, 10 * 1024 ** 2]);
  t.same([cam.record.bitRate, cam.record.segmentSeconds, cam.record.deleteAfterMs, cam.record.maxBytes], [500, 60, 36 * 3_600_000, 1.5 * 1024 ** 4]);
  const stream = config.streams[0]!;
  t.same([stream.videoBitRate, stream.hlsSegmentSeconds, stream.viewerBudgetBytes, stream.viewerWriteTimeoutMs], [2000, 1.5, 512 * 1024, 30_000]);
  rejectsConfig(t, `${camera.replace('</Camera>', ' Timeout 2w\n</Camera>')}`, 'relay.conf:3: Timeout: "2w" is not a duration (e.g. 2, 2s, 500ms, 1m)', schemes);
  rejectsConfig(t, `${camera.replace('</Camera>', ' Record yes\n RecordSegmentSeconds 2500ms\n</Camera>')}`, 'relay.conf:4: RecordSegmentSeconds: 2500ms is not a whole number of seconds', schemes);
  rejectsConfig(t, `${camera.replace('</Camera>', ' Record yes\n RecordBitRate 5G\n</Camera>')}`, 'relay.conf:4: RecordBitRate: "5G" is not a bit rate in kbit/s (e.g. 800, 800k, 2M)', schemes);
});

// Guards: a 500 MB RecordMaxSize at 1000 kbit/s holds about an hour, so "RecordDeleteAfter 7d" was never reached, silently.
t.test('a size cap that fills before RecordDeleteAfter is a warning naming both and what the age would need', async (t) => {
  const record = (extra: string) => `<Camera cam>\n Source testsrc://\n Record yes\n${extra}</Camera>\n`;
  const { warnings } = parse(record(' RecordMaxSize 500M\n RecordDeleteAfter 7d\n'));
  t.same(warnings.map((w) => `${w.line}: ${w.message}`), [
    '4: RecordMaxSize 500M holds about 1.2 h of <Camera cam> at 1000 kbit/s, so RecordDeleteAfter 7 d is never reached (that needs about 70.4G)',
  ]);
  t.same(parse(record(' RecordMaxSize 100G\n RecordDeleteAfter 7d\n')).warnings, [], 'a cap that holds the age: no warning');
  t.same(parse(record(' RecordCodec copy\n RecordMaxSize 500M\n RecordDeleteAfter 7d\n')).warnings, [], 'copy: the rate is not known, no guess');
  const total = parse(`RecordMaxTotalSize 100G\n${record(' RecordDeleteAfter 7d\n')}${record(' RecordDeleteAfter 7d\n').replace('cam>', 'cam2>')}`);
  t.same(total.warnings.map((w) => `${w.line}: ${w.message}`), [
    '1: RecordMaxTotalSize 100G holds about 5 d of all 2 recorded camera(s) together, less than their RecordDeleteAfter asks for (that needs about 141G)',
  ]);
});

// Guards: every recording defaulted to a flat 1000 kbit/s, whether 160x120 at 1 fps or 1080p at 25.
t.test('the default RecordBitRate follows RecordSize and RecordFrameRate; a given one is kept', async (t) => {
  const bitRate = (lines: string) => parse(`<Camera cam>\n Source testsrc://\n Record yes\n${lines}</Camera>\n`).config.cameras[0]!.record.bitRate;
  t.equal(bitRate(' RecordSize vga\n RecordFrameRate 5\n'), 154, '640x480 x 5 fps x 0.1 bit');
  t.equal(bitRate(' RecordSize hd1080\n'), 5184, "1920x1080 at the camera's rate, counted as 25 fps");
  t.equal(bitRate(' RecordSize qqvga\n RecordFrameRate 1\n'), 64, 'never below 64 kbit/s');
  t.equal(bitRate(' RecordFrameRate 5\n'), 1000, 'without RecordSize the size is unknown: 1000 kbit/s');
  t.equal(bitRate(' RecordSize hd1080\n RecordBitRate 800\n'), 800, 'RecordBitRate given: kept');
});
