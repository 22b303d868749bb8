import t from 'tap';
import { buildRtpPacket } from '../../../media/rtp/packet.ts';
import { parseRtpPacket } from '../../../media/rtp/rtp.ts';
import { buildRtxPacket, unwrapRtxPacket } from '../../../media/rtp/rtx.ts';

t.test('an RTX packet carries the original sequence number and payload, and unwraps to the original', async (t) => {
  const payload = Buffer.from([0x65, 1, 2, 3, 4, 5]);
  const original = buildRtpPacket({ payloadType: 112, sequence: 0xfffe, timestamp: 123456, ssrc: 0x11223344, marker: true }, payload);
  const copy = Buffer.from(original);
  const rtx = parseRtpPacket(buildRtxPacket(original, { payloadType: 113, sequence: 7, ssrc: 0x55667788, originalSequence: 0xfffe }));
  t.same(original, copy, 'the shared original is left as it was');
  t.same({ pt: rtx.payloadType, seq: rtx.sequence, ssrc: rtx.ssrc, ts: rtx.timestamp, marker: rtx.marker }, { pt: 113, seq: 7, ssrc: 0x55667788, ts: 123456, marker: true });
  t.equal(rtx.payload.readUInt16BE(0), 0xfffe, 'OSN first');
  const back = unwrapRtxPacket(rtx, { payloadType: 112, ssrc: 0x11223344 })!;
  t.same({ pt: back.payloadType, seq: back.sequence, ssrc: back.ssrc, ts: back.timestamp }, { pt: 112, seq: 0xfffe, ssrc: 0x11223344, ts: 123456 });
  t.same(back.payload, payload);
  t.equal(unwrapRtxPacket(parseRtpPacket(buildRtpPacket({ payloadType: 113, sequence: 1, timestamp: 0, ssrc: 1, marker: false }, Buffer.from([9]))), { payloadType: 112, ssrc: 1 }), undefined,
    'an RTX packet too short for an OSN is not a packet');
});
