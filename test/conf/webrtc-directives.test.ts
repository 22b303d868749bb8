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

t.test('WebRTCICEServers and WebRTCAdditionalHosts: read into what players and answers need, none by default', async (t) => {
  const defaults = parse(camera).config;
  t.same(defaults.webrtcIceServers, [], 'no ICE server unless set');
  t.same(defaults.webrtcAdditionalHosts, [], 'no extra host candidate unless set');
  const set = parse(`WebRTCICEServers stun:stun.example.net:3478 turns:viewer:p%40ss@turn.example.net?transport=tcp\nWebRTCAdditionalHosts 203.0.113.7 2001:db8::7 203.0.113.7\n${camera}`).config;
  t.same(set.webrtcIceServers, [
    { urls: 'stun:stun.example.net:3478' },
    { urls: 'turns:turn.example.net?transport=tcp', username: 'viewer', credential: 'p@ss' },
  ], 'the browser\'s RTCIceServer form, credentials apart from the URL');
  t.same(set.webrtcAdditionalHosts, ['203.0.113.7', '2001:db8::7'], 'each address once');
});

t.test('WebRTCICEServers and WebRTCAdditionalHosts: bad values name the line and directive, never a password', async (t) => {
  rejectsConfig(t, 'WebRTCICEServers http://stun.example.net\n', 'relay.conf:1: WebRTCICEServers: "http://stun.example.net" is not stun:HOST[:PORT] or turn:USER:PASSWORD@HOST[:PORT][?transport=udp|tcp]', schemes);
  rejectsConfig(t, 'WebRTCICEServers turn:turn.example.net\n', 'relay.conf:1: WebRTCICEServers: "turn:turn.example.net": a TURN server needs USER:PASSWORD@', schemes);
  const problems = rejectsConfig(t, 'WebRTCICEServers stun:u:hunter2@stun.example.net\n', 'relay.conf:1: WebRTCICEServers: "stun:u:***@stun.example.net": a STUN server takes no credentials or transport', schemes);
  t.notMatch(problems.join('\n'), /hunter2/, 'the password is not repeated');
  rejectsConfig(t, 'WebRTCICEServers stun:stun.example.net:0\n', 'relay.conf:1: WebRTCICEServers: "stun:stun.example.net:0": port 0 is out of range (1 to 65535)', schemes);
  rejectsConfig(t, 'WebRTCAdditionalHosts relay.example.net\n', 'relay.conf:1: WebRTCAdditionalHosts: "relay.example.net" is not an IPv4 or IPv6 address', schemes);
  rejectsConfig(t, 'WebRTCAdditionalHosts 203.0.113.300\n', 'relay.conf:1: WebRTCAdditionalHosts: "203.0.113.300" is not an IPv4 or IPv6 address', schemes);
  rejectsConfig(t, `WebRTCAdditionalHosts ${Array.from({ length: 9 }, (_, i) => `10.0.0.${i}`).join(' ')}\n`, 'relay.conf:1: WebRTCAdditionalHosts: takes at most 8 addresses', schemes);
});
