import t from 'tap';
import { parseWhepOffer } from '../../../relay/webrtc/offer.ts';

const VIDEO = [
  'm=video 9 UDP/TLS/RTP/SAVPF 102', 'a=mid:0', 'a=ice-ufrag:abcd', 'a=ice-pwd:abcdefghijklmnopqrstuvwx', 'a=recvonly',
  'a=rtpmap:102 H264/90000', 'a=fmtp:102 packetization-mode=1;profile-level-id=42e01f',
];
const offer = (...audio: string[]): string => ['v=0', 'o=- 1 2 IN IP4 127.0.0.1', 's=-', 't=0 0', 'a=fingerprint:sha-256 AA:BB', ...VIDEO, ...audio].join('\r\n');

t.test('the audio section offering Opus is found with its mid and payload type', async (t) => {
  // As Chromium offers it: Opus first, then other codecs.
  const chromium = offer('m=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8', 'a=mid:1', 'a=recvonly', 'a=rtpmap:111 opus/48000/2',
    'a=fmtp:111 minptime=10;useinbandfec=1', 'a=rtpmap:63 red/48000/2', 'a=rtpmap:9 G722/8000', 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:8 PCMA/8000');
  t.same(parseWhepOffer(chromium).audio, { mid: '1', payloadType: 111 });
  t.equal(parseWhepOffer(offer()).audio, undefined, 'no audio section: video only');
});

t.test('an audio section without a usable Opus format gets no sound, and is no error', async (t) => {
  const cases: Array<[string, string[]]> = [
    ['no Opus', ['m=audio 9 UDP/TLS/RTP/SAVPF 0 8', 'a=mid:1', 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:8 PCMA/8000']],
    ['Opus mono is not how SDP names Opus', ['m=audio 9 UDP/TLS/RTP/SAVPF 111', 'a=mid:1', 'a=rtpmap:111 opus/48000']],
    ['Opus not on the m= line', ['m=audio 9 UDP/TLS/RTP/SAVPF 0', 'a=mid:1', 'a=rtpmap:111 opus/48000/2']],
    ['a static payload type', ['m=audio 9 UDP/TLS/RTP/SAVPF 9', 'a=mid:1', 'a=rtpmap:9 opus/48000/2']],
    ['garbage rtpmap', ['m=audio 9 UDP/TLS/RTP/SAVPF 111', 'a=mid:1', 'a=rtpmap:111', 'a=rtpmap:x opus/48000/2', 'a=rtpmap:1111 opus/48000/2', 'a=rtpmap:111 opus/48000/2/9 junk']],
    ['Opus in a video section', ['m=video 9 UDP/TLS/RTP/SAVPF 111', 'a=mid:1', 'a=rtpmap:111 opus/48000/2']],
  ];
  for (const [name, audio] of cases) t.equal(parseWhepOffer(offer(...audio)).audio, undefined, name);
  t.throws(() => parseWhepOffer(offer('m=audio 9 UDP/TLS/RTP/SAVPF 111', 'a=mid:bad mid!', 'a=rtpmap:111 opus/48000/2')), { name: 'OfferError', message: /a=mid/ }, 'an unusable mid is still refused');
});
