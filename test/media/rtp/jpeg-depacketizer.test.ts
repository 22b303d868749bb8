import t from 'tap';
import { spawnSync } from 'node:child_process';
import { JpegDepacketizer, buildJpegHeader } from '../../../media/rtp/jpeg-depacketizer.ts';
import { quantizationTablesForQ, STANDARD_HUFFMAN_TABLES } from '../../../media/jpeg/tables.ts';
import { rtpPacket } from '../../adapters/rtsp/rtp-builder.ts';
import { probe } from '../../adapters/rtsp/probe.ts';

/** A real baseline 4:2:0 JPEG from ffmpeg with the standard Huffman tables, as an RTP/JPEG sender would start from. */
function makeJpeg(): Buffer {
  const args = ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=1', '-frames:v', '1', '-c:v', 'mjpeg', '-huffman', 'default', '-pix_fmt', 'yuvj420p', '-q:v', '5', '-f', 'mjpeg', 'pipe:1'];
  const result = spawnSync('/usr/bin/ffmpeg', args, { maxBuffer: 1 << 20, timeout: 15_000 });
  if (result.status !== 0) throw new Error(`ffmpeg failed: ${result.stderr.toString()}`);
  return result.stdout;
}

/** The segments of a JPEG up to SOS, and the entropy-coded data after it (without the EOI). */
function segments(jpeg: Buffer): { byMarker: Map<number, Buffer[]>; scan: Buffer } {
  const byMarker = new Map<number, Buffer[]>();
  let at = 2;
  for (;;) {
    const marker = jpeg[at + 1]!;
    const length = jpeg.readUInt16BE(at + 2);
    const body = jpeg.subarray(at + 4, at + 2 + length);
    byMarker.set(marker, [...(byMarker.get(marker) ?? []), body]);
    at += 2 + length;
    if (marker === 0xda) return { byMarker, scan: jpeg.subarray(at, jpeg.length - 2) };
  }
}

/** Splits an image into RFC 2435 packets: type 1 (4:2:0), Q 255 with the tables in the first packet. */
function packetize(scan: Buffer, tables: Buffer, options: { timestamp: number; firstSequence: number; chunk?: number; q?: number }): ReturnType<typeof rtpPacket>[] {
  const chunk = options.chunk ?? 1000;
  const q = options.q ?? 255;
  const packets = [];
  for (let offset = 0, i = 0; offset < scan.length; offset += chunk, i++) {
    const header = Buffer.from([0, offset >> 16, (offset >> 8) & 0xff, offset & 0xff, 1, q, 320 / 8, 240 / 8]);
    const tableHeader = offset === 0 && q >= 128 ? Buffer.concat([Buffer.from([0, 0, tables.length >> 8, tables.length & 0xff]), tables]) : Buffer.alloc(0);
    const last = offset + chunk >= scan.length;
    packets.push(rtpPacket(options.firstSequence + i, options.timestamp, Buffer.concat([header, tableHeader, scan.subarray(offset, offset + chunk)]), last, 26));
  }
  return packets;
}

/** Decodes a JPEG to raw pixels with ffmpeg, so two files can be compared by what they show. */
function pixels(jpeg: Buffer): Buffer {
  const result = spawnSync('/usr/bin/ffmpeg', ['-v', 'error', '-f', 'mjpeg', '-i', 'pipe:0', '-f', 'rawvideo', '-pix_fmt', 'yuv420p', 'pipe:1'], { input: jpeg, maxBuffer: 4 << 20, timeout: 15_000 });
  if (result.status !== 0) throw new Error(`ffmpeg could not decode: ${result.stderr.toString()}`);
  return result.stdout;
}

const original = makeJpeg();
const { byMarker, scan } = segments(original);
const tables = Buffer.concat((byMarker.get(0xdb) ?? []).flatMap((dqt) => [dqt.subarray(1, 65), ...(dqt.length > 65 ? [dqt.subarray(66, 130)] : [])]));

t.test('the built-in Huffman tables are the standard ones a real encoder uses', async (t) => {
  const dht = Buffer.concat(byMarker.get(0xc4) ?? []);
  const ours = Buffer.concat(STANDARD_HUFFMAN_TABLES.map((table) => Buffer.from([(table.tableClass << 4) | table.id, ...table.counts, ...table.symbols])));
  t.equal(ours.length, dht.length);
  for (const table of STANDARD_HUFFMAN_TABLES) t.equal(table.symbols.length, table.counts.reduce((a, b) => a + b, 0));
  // ffmpeg may order the tables differently; compare as a set of table bodies.
  const split = (bytes: Buffer): string[] => {
    const out: string[] = [];
    for (let at = 0; at < bytes.length; ) {
      const count = bytes.subarray(at + 1, at + 17).reduce((a, b) => a + b, 0);
      out.push(bytes.subarray(at, at + 17 + count).toString('hex'));
      at += 17 + count;
    }
    return out.sort();
  };
  t.same(split(ours), split(dht));
});

t.test('an image sent with in-band tables is rebuilt into a JPEG that decodes to the same pixels', async (t) => {
  // ffmpeg's encoder shares one table between luma and chroma; the two-table form repeats it.
  t.equal(tables.length, 64, 'the source has one quantization table');
  for (const inBand of [tables, Buffer.concat([tables, tables])]) {
    const depacketizer = new JpegDepacketizer(1 << 20);
    const images = packetize(scan, inBand, { timestamp: 1000, firstSequence: 1 }).flatMap((packet) => depacketizer.push(packet));
    t.equal(images.length, 1);
    const rebuilt = images[0]!.data;
    t.same(rebuilt.subarray(0, 2), Buffer.from([0xff, 0xd8]));
    t.same(rebuilt.subarray(-2), Buffer.from([0xff, 0xd9]));
    t.match(await probe(rebuilt, 'mjpeg'), { codec: 'mjpeg', width: 320, height: 240, decodedFrames: 1, errors: '' });
    t.ok(pixels(rebuilt).equals(pixels(original)), `same pixels as the original (${inBand.length / 64} tables)`);
  }
});

t.test('a Q factor image uses the RFC 2435 tables (Q 50 is the standard table) and decodes', async (t) => {
  const q50 = quantizationTablesForQ(50);
  t.same([...q50.subarray(0, 8)], [16, 11, 12, 14, 12, 10, 16, 14], 'luma table K.1 in zigzag order');
  t.same([...q50.subarray(64, 72)], [17, 18, 18, 24, 21, 24, 47, 26], 'chroma table K.2 in zigzag order');
  t.same([...quantizationTablesForQ(99).subarray(0, 4)], [1, 1, 1, 1]);
  t.same([...quantizationTablesForQ(1).subarray(0, 2)], [255, 255]);
  const depacketizer = new JpegDepacketizer(1 << 20);
  const images = packetize(scan, tables, { timestamp: 0, firstSequence: 1, q: 80 }).flatMap((packet) => depacketizer.push(packet));
  t.match(await probe(images[0]!.data, 'mjpeg'), { width: 320, height: 240, decodedFrames: 1 });
});

t.test('cached tables: Q 128..254 may leave the tables out of later images', async (t) => {
  const depacketizer = new JpegDepacketizer(1 << 20);
  const first = packetize(scan, tables, { timestamp: 0, firstSequence: 1, q: 200 });
  const second = packetize(scan, Buffer.alloc(0), { timestamp: 3000, firstSequence: 100, q: 200 });
  const images = [...first, ...second].flatMap((packet) => depacketizer.push(packet));
  t.equal(images.length, 2);
  t.ok(images[1]!.data.equals(images[0]!.data));
});

t.test('a lost fragment drops that image only', async (t) => {
  // Guards against a gap producing a corrupt JPEG or stalling the stream.
  const depacketizer = new JpegDepacketizer(1 << 20);
  const a = packetize(scan, tables, { timestamp: 0, firstSequence: 1 });
  const b = packetize(scan, tables, { timestamp: 3000, firstSequence: 100 });
  const c = packetize(scan, tables, { timestamp: 6000, firstSequence: 200 });
  const out = [...a, ...b.filter((_, i) => i !== 2), ...c].flatMap((packet) => depacketizer.push(packet));
  t.same(out.map((image) => image.rtpTimestamp), [0, 6000]);
  t.equal(depacketizer.droppedImages, 1);
  depacketizer.markLoss();
  t.same([...a].flatMap((packet) => depacketizer.push(packet)), [], 'markLoss drops the image in progress');
});

t.test('restart intervals become a DRI segment', async (t) => {
  const header = buildJpegHeader({ type: 65, width: 320, height: 240, restartInterval: 4, tables, precision: 0 });
  t.ok(header.includes(Buffer.from([0xff, 0xdd, 0x00, 0x04, 0x00, 0x04])));
  t.ok(header.includes(Buffer.from([0xff, 0xc0, 0x00, 0x11, 0x08, 0x00, 0xf0, 0x01, 0x40, 0x03, 0x01, 0x22])), 'SOF0 for 320x240 4:2:0');
});

t.test('limits and unsupported input', async (t) => {
  const small = new JpegDepacketizer(2000);
  t.throws(() => packetize(scan, tables, { timestamp: 0, firstSequence: 1 }).forEach((packet) => small.push(packet)), { name: 'ProtocolError', code: 'PROTOCOL', message: /larger than 2000/ });
  const header = Buffer.from([0, 0, 0, 0, 3, 50, 40, 30]);
  t.throws(() => new JpegDepacketizer(1 << 20).push(rtpPacket(1, 0, header, true, 26)), { code: 'PROTOCOL', message: /unsupported type 3/ });
  const depacketizer = new JpegDepacketizer(1 << 20);
  const garbage = [Buffer.alloc(3), Buffer.from([0, 0, 0, 0, 1, 0, 40, 30]), Buffer.from([0, 0, 0, 0, 1, 50, 0, 30]), Buffer.from([0, 0, 0, 0, 1, 255, 40, 30, 0, 0, 0, 64]), Buffer.from([0, 0, 0, 0, 64, 50, 40, 30, 0])];
  t.same(garbage.flatMap((payload, i) => depacketizer.push(rtpPacket(i, i, payload, true, 26))), [], 'malformed images are dropped, not thrown');
});
