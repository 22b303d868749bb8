import t, { type Test } from 'tap';
import { ConfigError, parseConfig } from '../../conf/parse.ts';

const schemes = ['testsrc', 'vod-live'];
const parse = (text: string) => parseConfig(text, 'relay.conf', { schemes });

function rejects(t: Test, text: string, expected: string): void {
  try {
    parse(text);
    t.fail(`accepted: ${text}`);
  } catch (error) {
    t.type(error, ConfigError);
    const messages = (error as ConfigError).problems.map((p) => `${p.file}:${p.line}: ${p.message}`);
    t.ok(messages.includes(expected), `expected "${expected}" in:\n${messages.join('\n')}`);
  }
}

t.test('MediaPath, VodCachePath and VodStreamTimeout defaults', async (t) => {
  const { config } = parse('');
  t.equal(config.mediaPath, './media');
  t.equal(config.vodCachePath, undefined);
  t.equal(config.vodStreamTimeoutMs, 30_000);
  const set = parse('MediaPath /srv/media\nVodCachePath /var/cache/relay\nVodStreamTimeout 2.5\n').config;
  t.same([set.mediaPath, set.vodCachePath, set.vodStreamTimeoutMs], ['/srv/media', '/var/cache/relay', 2500]);
});

t.test('a vod-live camera runs on demand and lingers VodStreamTimeout unless its block says otherwise', async (t) => {
  const { config } = parse(`VodStreamTimeout 5
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
  rejects(t, 'VodStreamTimeout soon\n', 'relay.conf:1: VodStreamTimeout: "soon" is not a number');
  rejects(t, 'VodStreamTimeout 100000\n', 'relay.conf:1: VodStreamTimeout: 100000 is out of range (0 to 86400)');
  rejects(t, 'MediaPath\n', 'relay.conf:1: MediaPath: takes exactly one value, got 0');
  rejects(t, 'VodCachePath a b\n', 'relay.conf:1: VodCachePath: takes exactly one value, got 2');
  rejects(t, '<Camera film>\n  Source vod-live://movie.mp4\n  Loop sometimes\n</Camera>\n', 'relay.conf:3: Loop: "sometimes" is not yes or no');
  rejects(t, '<Camera cam>\n  Source testsrc://\n  Loop yes\n</Camera>\n', 'relay.conf:3: Loop: applies to vod-live:// sources only');
  rejects(t, 'Loop yes\n', 'relay.conf:1: Loop: not allowed in the global section; it belongs in a <Camera> block');
});
