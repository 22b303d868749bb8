import t from 'tap';
import { isOpusTags, MAX_OGG_PACKET_BYTES, OggReader, readOpusHead } from '../../media/ogg.ts';
import { ProtocolError } from '../../media/errors.ts';
import { makeTone } from '../helpers/audio.ts';
import { prng } from '../helpers/prng.ts';

/** Three seconds of ffmpeg's Ogg Opus (pages of a second each, its default), made once for every test here. */
const toneOgg = makeTone('opus', { seconds: 3 });

/** Reads `bytes` in chunks of `size`, as a pipe hands them over. */
function readInChunks(bytes: Buffer, size: number, reader = new OggReader()): ReturnType<OggReader['push']> {
  const packets = [];
  for (let offset = 0; offset < bytes.length; offset += size) packets.push(...reader.push(bytes.subarray(offset, offset + size)));
  return packets;
}

t.test('Ogg: ffmpeg\'s Ogg Opus read whole and in small chunks gives the same packets', async (t) => {
  const ogg = await toneOgg;
  const whole = new OggReader().push(ogg);
  const head = readOpusHead(whole[0]!.data);
  t.ok(head, 'the first packet is OpusHead');
  t.equal(head!.channels, 1);
  t.ok(head!.preSkip > 0 && head!.preSkip < 1000, `pre-skip ${head!.preSkip} samples`);
  t.ok(isOpusTags(whole[1]!.data), 'then OpusTags');
  const sound = whole.slice(2);
  // Three seconds of 20 ms packets (ffmpeg's libopus default frame), maybe one more for the encoder's delay.
  t.ok(sound.length >= 150 && sound.length <= 151, `${sound.length} packets of sound`);
  t.equal(sound.at(-1)!.granule, BigInt(3 * 48000 + head!.preSkip), 'the last page\'s granule counts every sample plus the pre-skip');
  for (const size of [7, 200, 4096]) {
    const chunked = readInChunks(ogg, size);
    t.same(chunked.map((p) => p.data.toString('hex')), whole.map((p) => p.data.toString('hex')), `chunks of ${size} bytes`);
  }
});

t.test('Ogg: garbage around and inside pages is skipped, a damaged page is dropped, never a crash', async (t) => {
  const ogg = await toneOgg;
  const clean = new OggReader().push(ogg);
  const garbage = Buffer.from('not ogg at all, OggS but no page here');
  const reader = new OggReader();
  const packets = reader.push(Buffer.concat([garbage, ogg, Buffer.from('trailing bytes')]));
  t.equal(packets.length, clean.length, 'every packet found between garbage');
  t.ok(reader.skippedBytes >= garbage.length, `${reader.skippedBytes} bytes skipped`);
  t.ok(reader.pendingBytes <= 3, 'nothing but a possible capture pattern\'s start kept');
  // One byte flipped in the body of the third page: that page's checksum fails and its packets alone are lost.
  const damaged = Buffer.from(ogg);
  let offset = 0;
  for (let page = 0; page < 3; page++) offset = damaged.indexOf('OggS', offset + 1);
  damaged[offset + 40]! ^= 0xff;
  const survived = new OggReader().push(damaged);
  const onThirdPage = clean.filter((packet) => packet.granule === damaged.readBigInt64LE(offset + 6)).length;
  t.ok(onThirdPage > 0);
  t.equal(survived.length, clean.length - onThirdPage, `the ${onThirdPage} packets of that page lost, no other`);
  const random = prng(7);
  const reader2 = new OggReader();
  let largestPending = 0;
  for (let i = 0; i < 300; i++) {
    const bytes = Buffer.from(Array.from({ length: 1 + Math.floor(random() * 600) }, () => Math.floor(random() * 256)));
    if (i % 10 === 0) bytes.write('OggS\0', Math.floor(random() * Math.max(1, bytes.length - 5)));
    reader2.push(bytes);
    largestPending = Math.max(largestPending, reader2.pendingBytes);
  }
  t.ok(largestPending <= 27 + 255 + 255 * 255, `random bytes: at most one page kept (${largestPending} bytes)`);
  // A false capture pattern may claim a page of up to 64 KB: the real pages after it are found without waiting for that much.
  t.equal(readInChunks(ogg, 333, reader2).length, clean.length, 'a stream after random bytes is read again');
});

t.test('Ogg: a truncated stream keeps its partial page; an oversized packet is dropped', async (t) => {
  const ogg = await toneOgg;
  const reader = new OggReader();
  const half = reader.push(ogg.subarray(0, Math.floor(ogg.length / 2)));
  t.ok(half.length > 2 && half.length < 120, `${half.length} packets from the first half`);
  t.ok(reader.pendingBytes < 27 + 255 + 255 * 255, 'at most one page waits');
  const rest = reader.push(ogg.subarray(Math.floor(ogg.length / 2)));
  t.equal(half.length + rest.length, new OggReader().push(ogg).length, 'the rest completes it');
  // A packet continued over pages past the bound: 300 pages of 255 x 255 bytes, each continuing the one before.
  const big = oversizedStream(Math.ceil(MAX_OGG_PACKET_BYTES / (255 * 255)) + 1);
  const bounded = new OggReader();
  t.same(bounded.push(big), [], 'no packet over the bound');
  t.equal(bounded.droppedPackets, 1, 'counted as dropped');
});

t.test('OpusHead: a malformed one is a clear PROTOCOL error', async (t) => {
  t.equal(readOpusHead(Buffer.from('OpusTags')), undefined, 'another packet is not one');
  t.throws(() => readOpusHead(Buffer.from('OpusHead\x01')), ProtocolError);
  const head = Buffer.alloc(19);
  head.write('OpusHead');
  head[8] = 0x10;
  head[9] = 2;
  t.throws(() => readOpusHead(head), { message: /version 16/ });
  head[8] = 1;
  head[9] = 0;
  t.throws(() => readOpusHead(head), { message: /0 channels/ });
  head[9] = 2;
  head.writeUInt16LE(312, 10);
  t.same(readOpusHead(head), { channels: 2, preSkip: 312 });
});

/** `pages` full Ogg pages (255 segments of 255 bytes), each continuing the packet of the one before, none ending it. */
function oversizedStream(pages: number): Buffer {
  const out: Buffer[] = [];
  for (let sequence = 0; sequence < pages; sequence++) {
    const header = Buffer.alloc(27 + 255);
    header.write('OggS');
    header[5] = sequence > 0 ? 1 : 0;
    header.writeBigInt64LE(-1n, 6);
    header.writeUInt32LE(1, 14);
    header.writeUInt32LE(sequence, 18);
    header[26] = 255;
    header.fill(255, 27);
    const page = Buffer.concat([header, Buffer.alloc(255 * 255, 0x55)]);
    page.writeUInt32LE(oggCrc(page), 22);
    out.push(page);
  }
  return Buffer.concat(out);
}

/** The Ogg checksum, written out again here so the test does not trust the reader's own. */
function oggCrc(page: Buffer): number {
  let crc = 0;
  for (let i = 0; i < page.length; i++) {
    crc ^= (i >= 22 && i < 26 ? 0 : page[i]!) << 24;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x80000000 ? (crc << 1) ^ 0x04c11db7 : crc << 1;
    crc >>>= 0;
  }
  return crc;
}
