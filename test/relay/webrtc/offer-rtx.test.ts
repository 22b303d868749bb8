import t from 'tap';
import { parseWhepOffer } from '../../../relay/webrtc/offer.ts';

const offer = (video: string): string => [
  'v=0', 'o=- 1 2 IN IP4 127.0.0.1', 's=-', 't=0 0', 'a=fingerprint:sha-256 AA:BB',
  video, 'a=mid:0', 'a=ice-ufrag:abcd', 'a=ice-pwd:abcdefghijklmnopqrstuvwx', 'a=recvonly',
  'a=rtpmap:102 H264/90000', 'a=fmtp:102 packetization-mode=1;profile-level-id=42e01f',
  'a=rtpmap:103 rtx/90000', 'a=fmtp:103 apt=102',
  'a=rtpmap:112 H264/90000', 'a=fmtp:112 packetization-mode=1;profile-level-id=64001f',
  'a=rtpmap:113 rtx/90000', 'a=fmtp:113 apt=112',
  'a=rtpmap:114 rtx/90000', 'a=fmtp:114 apt=1120',
].join('\r\n');

t.test('the RTX format of the chosen H.264 format is found by its apt', async (t) => {
  t.equal(parseWhepOffer(offer('m=video 9 UDP/TLS/RTP/SAVPF 102 103 112 113'), 0x64).rtxPayloadType, 113);
  t.equal(parseWhepOffer(offer('m=video 9 UDP/TLS/RTP/SAVPF 102 103 112 113'), 0x42).rtxPayloadType, 103);
  t.equal(parseWhepOffer(offer('m=video 9 UDP/TLS/RTP/SAVPF 102 103 112'), 0x64).rtxPayloadType, undefined, 'an RTX format not on the m= line is not offered');
  t.equal(parseWhepOffer(offer('m=video 9 UDP/TLS/RTP/SAVPF 112 114'), 0x64).rtxPayloadType, undefined, 'apt=1120 is not apt=112');
});
