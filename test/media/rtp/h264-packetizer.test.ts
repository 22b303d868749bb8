import t from 'tap';
import { H264Depacketizer } from '../../../media/rtp/h264-depacketizer.ts';
import { packetizeH264, h264FmtpParameters } from '../../../media/rtp/h264-packetizer.ts';
import { nal, rtpPacket } from '../../adapters/rtsp/rtp-builder.ts';

t.test('small NAL units go as single NAL unit packets, large ones as FU-A, and the depacketizer rebuilds the unit', async (t) => {
  const units = [nal(7, 20), nal(8, 6), nal(5, 5000, 0x42), nal(5, 1400), nal(5, 1401)];
  const payloads = packetizeH264(units, 1400);
  t.equal(payloads.filter((p) => p.marker).length, 1, 'one marker');
  t.ok(payloads[payloads.length - 1]!.marker, 'marker on the last packet');
  t.ok(payloads.every((p) => p.payload.length <= 1400), 'no payload over the limit');
  t.equal(payloads[0]!.payload, units[0], 'SPS goes whole');
  t.equal(payloads[2]!.payload[0]! & 0x1f, 28, 'the 5000-byte slice is fragmented');
  const depacketizer = new H264Depacketizer(1 << 20);
  const out = payloads.flatMap(({ payload, marker }, index) => depacketizer.push(rtpPacket(index, 9000, payload, marker)));
  t.equal(out.length, 1);
  t.same(out[0]!.data, units);
  t.equal(out[0]!.keyframe, true);
});

t.test('FU-A fragments carry start and end bits and the NAL header bits', async (t) => {
  const unit = nal(1, 3000, 7);
  const payloads = packetizeH264([unit], 1000);
  t.equal(payloads.length, 4);
  t.equal(payloads[0]!.payload[1]! & 0xc0, 0x80, 'start bit only on the first');
  t.equal(payloads[3]!.payload[1]! & 0xc0, 0x40, 'end bit only on the last');
  t.equal(payloads[1]!.payload[1]! & 0xc0, 0, 'neither in the middle');
  t.equal(payloads[0]!.payload[0]! & 0xe0, unit[0]! & 0xe0, 'nal_ref_idc kept in the indicator');
  t.equal(payloads[2]!.payload[1]! & 0x1f, 1, 'original type in the FU header');
});

t.test('empty and missing input makes no packets', async (t) => {
  t.same(packetizeH264([]), []);
  t.same(packetizeH264([Buffer.alloc(0)]), []);
});

t.test('fmtp carries profile-level-id from the SPS and base64 parameter sets', async (t) => {
  const sps = Buffer.from([0x67, 0x64, 0x00, 0x1f, 0xac]);
  const pps = Buffer.from([0x68, 0xee, 0x3c, 0x80]);
  t.equal(h264FmtpParameters(sps, pps), `packetization-mode=1;profile-level-id=64001f;sprop-parameter-sets=${sps.toString('base64')},${pps.toString('base64')}`);
});
