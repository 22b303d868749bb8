import t from 'tap';
import { H264Depacketizer, parseSpropParameterSets, type H264AccessUnit } from '../../../media/rtp/h264-depacketizer.ts';
import { RtpReorderer, type RtpPacket } from '../../../media/rtp/rtp.ts';
import { fuA, nal, rtpPacket, stapA } from '../../adapters/rtsp/rtp-builder.ts';

const SPS = nal(7, 10);
const PPS = nal(8, 4);
const IDR = nal(5, 3000, 0x55);
const SLICE = nal(1, 900, 0x11);

/** Feeds packets through a reorderer into a depacketizer, as the client does. */
function run(packets: RtpPacket[], depacketizer = new H264Depacketizer(1 << 20)): H264AccessUnit[] {
  const reorderer = new RtpReorderer(2);
  const out: H264AccessUnit[] = [];
  for (const packet of packets) {
    for (const item of reorderer.push(packet)) {
      if ('lost' in item) depacketizer.markLoss();
      else out.push(...depacketizer.push(item.packet));
    }
  }
  return out;
}

/** Packetizes access units: each NAL alone if small, else FU-A; marker on the last packet of each unit. */
function packetize(units: Buffer[][], firstSequence = 100, chunk = 1000): RtpPacket[] {
  const packets: RtpPacket[] = [];
  let sequence = firstSequence;
  units.forEach((unit, index) => {
    const payloads = unit.flatMap((part) => (part.length > chunk ? fuA(part, chunk) : [part]));
    payloads.forEach((payload, i) => packets.push(rtpPacket(sequence++, index * 3000, payload, i === payloads.length - 1)));
  });
  return packets;
}

t.test('single NAL units and FU-A fragments make Annex B access units; keyframe means an IDR', async (t) => {
  const units = run(packetize([[SPS, PPS, IDR], [SLICE], [SLICE]]));
  t.equal(units.length, 3);
  t.same(units[0]!.data, [SPS, PPS, IDR]);
  t.ok(units[0]!.keyframe);
  t.same(units[1]!.data, [SLICE]);
  t.notOk(units[1]!.keyframe);
  t.same(units.map((unit) => unit.rtpTimestamp), [0, 3000, 6000]);
});

t.test('STAP-A aggregates are split into their NAL units', async (t) => {
  const units = run([rtpPacket(1, 0, stapA([SPS, PPS])), ...fuA(IDR, 1000).map((payload, i, all) => rtpPacket(2 + i, 0, payload, i === all.length - 1))]);
  t.equal(units.length, 1);
  t.same(units[0]!.data, [SPS, PPS, IDR]);
});

t.test('SPS and PPS from sprop-parameter-sets are prepended to a keyframe that lacks them', async (t) => {
  const sprop = `${SPS.toString('base64')},${PPS.toString('base64')}`;
  const depacketizer = new H264Depacketizer(1 << 20, parseSpropParameterSets(sprop));
  const units = run(packetize([[IDR], [SLICE]]), depacketizer);
  t.same(units[0]!.data, [SPS, PPS, IDR]);
  t.same(units[1]!.data, [SLICE], 'non-keyframes are left alone');
});

t.test('parameter sets seen in-band are remembered and prepended after an access unit delimiter', async (t) => {
  const aud = Buffer.from([0x09, 0xf0]);
  const units = run(packetize([[SPS, PPS, IDR], [SLICE], [aud, IDR]]));
  t.same(units[2]!.data, [aud, SPS, PPS, IDR]);
});

t.test('a lost FU-A fragment drops that access unit and what depends on it, up to the next keyframe', async (t) => {
  // Guards against a loss either killing the stream or letting corrupt or undecodable frames through.
  const packets = packetize([[SPS, PPS, IDR], [SLICE, nal(1, 2500, 0x22)], [SLICE], [SLICE], [IDR], [SLICE]]);
  const middle = packets.findIndex((packet) => packet.timestamp === 3000 && packet.payload[0] === 0x7c && (packet.payload[1]! & 0xc0) === 0);
  t.ok(middle > 0, 'the second unit has a middle fragment');
  const depacketizer = new H264Depacketizer(1 << 20);
  const units = run(packets.filter((_, i) => i !== middle), depacketizer);
  t.same(units.map((unit) => unit.rtpTimestamp), [0, 12000, 15000], 'resumes at the next keyframe');
  t.ok(units[1]!.keyframe);
  t.equal(depacketizer.droppedUnits, 1);
  t.equal(depacketizer.skippedUnits, 2);
});

t.test('a lost marker packet still ends the unit when the timestamp changes, and that unit is dropped', async (t) => {
  // The first keyframe is fragmented and its last fragment (the one with the marker) never arrives.
  const packets = packetize([[SPS, PPS, nal(5, 2500, 0x33)], [SLICE], [SLICE], [IDR], [SLICE]]);
  const lastOfFirst = packets.findIndex((packet) => packet.marker);
  t.ok(lastOfFirst > 0 && packets[lastOfFirst]!.timestamp === 0);
  const depacketizer = new H264Depacketizer(1 << 20);
  const units = run(packets.filter((_, i) => i !== lastOfFirst), depacketizer);
  t.same(units.map((unit) => unit.rtpTimestamp), [9000, 12000], 'the incomplete keyframe and its dependants are dropped');
  t.equal(depacketizer.droppedUnits, 1);
});

t.test('out-of-order and duplicated packets are put right', async (t) => {
  const packets = packetize([[SPS, PPS, IDR], [SLICE], [SLICE], [SLICE]]);
  const shuffled = [packets[0]!, packets[2]!, packets[1]!, packets[1]!, ...packets.slice(3, 5), packets[3]!, packets[6]!, packets[5]!, ...packets.slice(7)];
  t.equal(packets.length, 8);
  t.same(run(shuffled), run(packets));
  t.equal(run(packets).length, 4);
});

t.test('an access unit over maxFrameBytes is a PROTOCOL error, not unbounded memory', async (t) => {
  const depacketizer = new H264Depacketizer(10_000);
  const big = packetize([[nal(5, 20_000)]]);
  t.throws(() => run(big, depacketizer), { name: 'ProtocolError', code: 'PROTOCOL' });
});

t.test('malformed payloads drop their unit without throwing', async (t) => {
  const depacketizer = new H264Depacketizer(1 << 20);
  const bad = [Buffer.from([0x78, 0x00]), Buffer.from([0x78, 0x00, 0x09, 1]), Buffer.from([0x7c]), Buffer.from([0x7c, 0x05]), Buffer.from([0x99]), Buffer.from([0x7a, 1, 2])];
  const units = bad.map((payload, i) => depacketizer.push(rtpPacket(i, i, payload, true))).flat();
  t.same(units, []);
  t.same(depacketizer.push(rtpPacket(10, 10, SLICE, true)).map((unit) => unit.data), [[SLICE]], 'the next good unit comes out');
});
