import t from 'tap';
import { parseConfig } from '../../conf/parse.ts';
import { rejectsConfig } from '../helpers/config-rejects.ts';

const schemes = ['testsrc'];
const parse = (text: string) => parseConfig(text, 'relay.conf', { schemes });
const camera = '<Camera cam>\n  Source testsrc://\n</Camera>\n';

t.test('WebRTC directives: defaults, a global default each Stream may override, H.264 streams only', async (t) => {
  const defaults = parse(`${camera}<Stream a.flv>\n Feed cam\n</Stream>\n<Stream a.mjpg>\n Feed cam\n</Stream>\n`).config;
  t.equal(defaults.webrtcUdpPort, 0, 'a system port per session unless set');
  t.equal(defaults.webrtcConnectTimeoutMs, 10_000);
  t.equal(defaults.streams[0]!.webrtc, true, 'H.264 streams play over WebRTC by default');
  t.equal(defaults.streams[1]!.webrtc, false, 'MJPEG does not');
  const set = parse(`WebRTC no\nWebRTCUDPPort 8189\nWebRTCConnectTimeout 3\n${camera}<Stream a.flv>\n Feed cam\n WebRTC yes\n</Stream>\n<Stream b.m3u8>\n Feed cam\n</Stream>\n`).config;
  t.equal(set.webrtcUdpPort, 8189);
  t.equal(set.webrtcConnectTimeoutMs, 3000);
  t.same(set.streams.map((stream) => stream.webrtc), [true, false], 'the Stream\'s own setting, else the global one');
});

t.test('WebRTC directives: bad values name the line and directive', async (t) => {
  rejectsConfig(t, 'WebRTCUDPPort 70000\n', 'relay.conf:1: WebRTCUDPPort: 70000 is out of range (0 to 65535)', schemes);
  rejectsConfig(t, 'WebRTCConnectTimeout 0\n', 'relay.conf:1: WebRTCConnectTimeout: 0 is out of range (1 to 600)', schemes);
  rejectsConfig(t, `${camera}<Stream a.mjpg>\n Feed cam\n WebRTC yes\n</Stream>\n`, 'relay.conf:6: WebRTC: applies to H.264 streams only (flv, hls)', schemes);
  rejectsConfig(t, `${camera}<Stream a.flv>\n Feed cam\n WebRTC maybe\n</Stream>\n`, 'relay.conf:6: WebRTC: "maybe" is not yes or no', schemes);
});
