// Guards started (VOD API) streams: built from directive values by the config model, they get exactly what the same
// blocks in relay.conf would get, and bad values are clear errors, without any config text being written.
import t from 'tap';
import { ConfigError, parseConfig } from '../../conf/parse.ts';
import { buildStartedCamera } from '../../conf/started.ts';
import { startedBlocks } from '../../relay/vod/streams.ts';

const schemes = ['testsrc', 'vod-live'];
const GLOBALS = 'VodStreamTimeout 42\nDefaultAccess token\nViewerTokenSecret 0123456789abcdef0123456789abcdef\n';
const running = parseConfig(GLOBALS, 'relay.conf', { schemes }).config;

/** The same camera and streams written as relay.conf blocks, parsed with the same global section. */
function asConfigText(name: string, uri: string, loop: boolean) {
  const streams = ['flv', 'm3u8', 'mjpg', 'jpg'].map((extension) => `<Stream ${name}.${extension}>\n  Feed ${name}\n</Stream>\n`).join('');
  return parseConfig(`${GLOBALS}<Camera ${name}>\n  Source ${uri}\n  Loop ${loop ? 'yes' : 'no'}\n</Camera>\n${streams}`, 'relay.conf', { schemes }).config;
}

const withoutLine = <T extends { line: number }>({ line: _line, ...rest }: T) => rest;

t.test('a started camera and its streams equal the relay.conf blocks they stand for', async (t) => {
  for (const loop of [true, false]) {
    const built = buildStartedCamera(running, ...startedBlocks('film', 'vod-live://movie.mp4', loop), schemes);
    const parsed = asConfigText('film', 'vod-live://movie.mp4', loop);
    t.same(withoutLine(built.camera), withoutLine(parsed.cameras[0]!), `camera, Loop ${loop}`);
    t.equal(built.camera.closeAfterMs, 42_000, 'the running VodStreamTimeout applies');
    t.equal(built.camera.onDemand, true);
    t.same(built.streams.map((stream) => stream.format), ['flv', 'hls', 'mpjpeg', 'jpeg']);
    t.same(
      built.streams.map(withoutLine),
      parsed.streams.map(({ access: _access, ...stream }) => withoutLine(stream)),
      'streams: the same defaults; Access is the request\'s, not DefaultAccess',
    );
    t.ok(built.streams.every((stream) => stream.access === undefined));
  }
});

t.test('bad values are a ConfigError naming the directive, never a crash', async (t) => {
  const [camera, streams] = startedBlocks('film', 'nonsense', false);
  t.throws(() => buildStartedCamera(running, camera, streams, schemes), new ConfigError([{ file: 'api', line: 0, message: 'Source: "nonsense" is not a URL (e.g. http://camera/video.mjpg, rtsp://camera/stream, vbc://camera, testsrc://)' }]));
  t.throws(() => buildStartedCamera(running, { name: 'film', directives: { Source: 'http://camera/' } }, [], schemes), { name: 'ConfigError', message: /Source: no adapter for http:\/\// });
  t.throws(() => buildStartedCamera(running, { name: 'film', directives: { Sauce: 'vod-live://a.mp4' } }, [], schemes), /Sauce is not a Camera directive/);
});
