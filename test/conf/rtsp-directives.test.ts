import t from 'tap';
import { ConfigError, parseConfig } from '../../conf/parse.ts';

const schemes = ['testsrc', 'rtsp'];
const parse = (text: string) => parseConfig(text, 'relay.conf', { schemes });
const camera = '<Camera cam>\n  Source testsrc://\n</Camera>\n';

t.test('RTSP directives: defaults, values, and the bind address following HTTPBindAddress', async (t) => {
  const defaults = parse(`HTTPBindAddress 0.0.0.0\n${camera}<Stream a.flv>\n Feed cam\n</Stream>\n<Stream a.jpg>\n Feed cam\n</Stream>\n`).config;
  t.equal(defaults.rtspPort, 0, 'off by default');
  t.equal(defaults.rtspBindAddress, '0.0.0.0');
  t.same(defaults.rtspUdpPortRange, [6970, 6999]);
  t.equal(defaults.rtspSessionTimeoutMs, 60_000);
  t.equal(defaults.streams[0]!.rtsp, true, 'video streams are served over RTSP by default');
  t.equal(defaults.streams[1]!.rtsp, false, 'snapshots are not');
  const set = parse(`RTSPPort 8554\nRTSPBindAddress 127.0.0.2\nRTSPUDPPortRange 20001-20010\nRTSPSessionTimeout 30\n${camera}<Stream a.mjpg>\n Feed cam\n RTSP no\n</Stream>\n`).config;
  t.equal(set.rtspPort, 8554);
  t.equal(set.rtspBindAddress, '127.0.0.2');
  t.same(set.rtspUdpPortRange, [20001, 20010]);
  t.equal(set.rtspSessionTimeoutMs, 30_000);
  t.equal(set.streams[0]!.rtsp, false);
});

const BAD: Array<[string, string]> = [
  ['RTSPPort 99999\n', 'relay.conf:1: RTSPPort: 99999 is out of range (0 to 65535)'],
  ['RTSPUDPPortRange 7000\n', 'relay.conf:1: RTSPUDPPortRange: "7000" is not a port range (e.g. 6970-6999)'],
  ['RTSPUDPPortRange 7000-6000\n', 'relay.conf:1: RTSPUDPPortRange: 7000-6000 is out of range (1024 to 65535, first to last)'],
  ['RTSPUDPPortRange 80-90\n', 'relay.conf:1: RTSPUDPPortRange: 80-90 is out of range (1024 to 65535, first to last)'],
  ['RTSPUDPPortRange 7001-7002\n', 'relay.conf:1: RTSPUDPPortRange: 7001-7002 holds no even/odd port pair'],
  ['RTSPUDPPortRange 7000-7001 7002-7003\n', 'relay.conf:1: RTSPUDPPortRange: takes exactly one value, got 2'],
  ['RTSPSessionTimeout 1\n', 'relay.conf:1: RTSPSessionTimeout: 1 is out of range (5 to 3600)'],
  [`${camera}<Stream a.flv>\n Feed cam\n RTSP sometimes\n</Stream>\n`, 'relay.conf:6: RTSP: "sometimes" is not yes or no'],
  [`${camera}<Stream a.jpg>\n Feed cam\n RTSP yes\n</Stream>\n`, 'relay.conf:6: RTSP: applies to video streams only (flv, hls, mpjpeg)'],
  ['<Camera c>\n Source testsrc://\n RTSP yes\n</Camera>\n', 'relay.conf:3: RTSP: not allowed in a <Camera> block; it belongs in a <Stream> block'],
];

for (const [text, expected] of BAD) {
  t.test(`rejects: ${expected}`, async (t) => {
    try {
      parse(text);
      t.fail('accepted');
    } catch (error) {
      t.type(error, ConfigError);
      const messages = (error as ConfigError).problems.map((p) => `${p.file}:${p.line}: ${p.message}`);
      t.ok(messages.includes(expected), `expected "${expected}" in:\n${messages.join('\n')}`);
    }
  });
}
