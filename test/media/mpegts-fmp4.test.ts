import t from 'tap';
import { box, fragment, initSegment } from '../../media/fmp4.ts';
import { h264Track } from '../../media/h264/params.ts';
import { annexB, crc32Mpeg, MpegTsMuxer, toMpegTime } from '../../media/mpegts.ts';
import type { H264Unit } from '../../media/types.ts';

// x264's SPS and PPS for 640x360 (High 4:4:4), as in the h264-params tests.
const track = h264Track(Buffer.from('67f40016919b281405ff138088000003000800000300a078b16cb0', 'hex'), Buffer.from('68ebe3c44844', 'hex'));
/** An access unit of `track` at time 0. */
const unit = (data: Buffer[], keyframe: boolean): H264Unit => ({ track, data, pts: 0, dts: 0, keyframe });

/** Splits TS output into packets and checks sync bytes and per-PID continuity counters. */
function packets(data: Buffer): Array<{ pid: number; start: boolean; counter: number; packet: Buffer }> {
  const out = [];
  for (let offset = 0; offset < data.length; offset += 188) {
    const packet = data.subarray(offset, offset + 188);
    out.push({ pid: ((packet[1]! & 0x1f) << 8) | packet[2]!, start: (packet[1]! & 0x40) !== 0, counter: packet[3]! & 0x0f, packet });
  }
  return out;
}

t.test('CRC-32/MPEG-2 check value', async (t) => {
  t.equal(crc32Mpeg(Buffer.from('123456789')), 0x0376e6e7);
});

t.test('PAT and PMT sections carry a correct CRC (a section with its CRC has CRC 0)', async (t) => {
  const tables = packets(new MpegTsMuxer().tables());
  t.same(tables.map((p) => p.pid), [0, 0x1000]);
  for (const { packet } of tables) {
    const length = ((packet[6]! & 0x0f) << 8) | packet[7]!;
    t.equal(crc32Mpeg(packet.subarray(5, 8 + length)), 0, 'CRC over section and CRC is 0');
  }
});

t.test('access units: whole packets, continuity counters run on across calls, PCR and random access on keyframes', async (t) => {
  const muxer = new MpegTsMuxer();
  const big = Buffer.alloc(5000, 0x41);
  big[0] = 0x65;
  const out = Buffer.concat([muxer.accessUnit(unit([big], true), 1000, 1000), muxer.accessUnit(unit([Buffer.from([0x41, 1])], false), 1040, 1040)]);
  t.equal(out.length % 188, 0);
  const video = packets(out);
  t.ok(video.every((p) => p.packet[0] === 0x47 && p.pid === 0x100));
  video.forEach((p, i) => t.equal(p.counter, i % 16, `counter ${i}`));
  t.equal(video.filter((p) => p.start).length, 2, 'one payload start per access unit');
  const first = video[0]!.packet;
  t.equal(first[3]! & 0x30, 0x30, 'adaptation field and payload');
  t.equal(first[5]! & 0x50, 0x50, 'PCR and random access flags');
  const pes = first.subarray(5 + first[4]!);
  t.same([...pes.subarray(0, 4)], [0, 0, 1, 0xe0], 'a video PES');
  t.same([...pes.subarray(14, 20)], [0, 0, 0, 1, 9, 0xf0], 'an AUD first');
});

t.test('annex B puts SPS and PPS before keyframes only', async (t) => {
  const key = annexB(unit([Buffer.from([0x65, 1])], true));
  const delta = annexB(unit([Buffer.from([0x41, 1])], false));
  t.ok(key.includes(track.sps) && key.includes(track.pps));
  t.notOk(delta.includes(track.sps));
});

t.test('hostile times and sizes: wrap, negative, empty access units do not throw and stay in 33 bits', async (t) => {
  t.equal(toMpegTime(0), 0);
  t.equal(toMpegTime(-1), 2 ** 33 - 90);
  t.ok(toMpegTime(1e15) < 2 ** 33);
  const muxer = new MpegTsMuxer();
  t.equal(muxer.accessUnit(unit([], false), 2 ** 40, 2 ** 40).length % 188, 0);
  for (let size = 150; size < 200; size++) {
    t.equal(muxer.accessUnit(unit([Buffer.alloc(size, 1)], false), 0, 0).length % 188, 0, `payload ${size} fills whole packets`);
  }
});

t.test('fMP4: init has ftyp and moov with avcC; fragments have moof/mdat with a data offset pointing at the samples', async (t) => {
  const init = initSegment(track);
  t.equal(init.toString('latin1', 4, 8), 'ftyp');
  t.ok(init.includes(Buffer.from('avcC')) && init.includes(track.avcC) && init.includes(Buffer.from('mvex')));
  const sample = Buffer.from([0x65, 0xaa, 0xbb]);
  const frag = fragment(7, [{ nalus: [sample], dts: 90_000, compositionOffset: 3600, duration: 3600, keyframe: true }]);
  t.equal(frag.toString('latin1', 4, 8), 'moof');
  const moofSize = frag.readUInt32BE(0);
  t.equal(frag.toString('latin1', moofSize + 4, moofSize + 8), 'mdat');
  const trun = frag.indexOf('trun');
  const dataOffset = frag.readInt32BE(trun + 12);
  t.equal(frag.readUInt32BE(dataOffset), sample.length, 'the data offset lands on the first length prefix');
  t.same(frag.subarray(dataOffset + 4, dataOffset + 4 + sample.length), sample);
  t.throws(() => fragment(1, []), /at least one sample/);
  t.equal(box('free').length, 8);
});
