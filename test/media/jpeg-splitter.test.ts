import t from 'tap';
import { JpegSplitter, JpegSplitError, isCompleteJpeg, isPlausibleJpeg } from '../../media/jpeg/splitter.ts';

/** A small but structurally real JPEG: SOI, APP0, DQT-like segment, SOS header, entropy bytes with stuffing, EOI. */
function fakeJpeg(payload: number[], app: Buffer = Buffer.from('JFIF\0')): Buffer {
  const app0 = Buffer.concat([Buffer.from([0xff, 0xe0]), u16(app.length + 2), app]);
  const sos = Buffer.from([0xff, 0xda, 0x00, 0x08, 0x01, 0x01, 0x00, 0x00, 0x3f, 0x00]);
  return Buffer.concat([Buffer.from([0xff, 0xd8]), app0, sos, Buffer.from(payload), Buffer.from([0xff, 0xd9])]);
}

function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}

t.test('splits concatenated images and skips garbage between them', async (t) => {
  const a = fakeJpeg([1, 2, 0xff, 0x00, 3]);
  const b = fakeJpeg([4, 0xff, 0xd3, 5]);
  const splitter = new JpegSplitter(1 << 20);
  const frames = splitter.push(Buffer.concat([Buffer.from('junk'), a, Buffer.from([0, 0]), b]));
  t.same(frames, [a, b]);
  t.equal(splitter.garbageBytes, 6);
});

t.test('an EOI inside an APP segment (an EXIF thumbnail) does not end the frame', async (t) => {
  const thumbnail = Buffer.from([0xff, 0xd8, 0x11, 0xff, 0xd9]);
  const image = fakeJpeg([7, 8, 9], Buffer.concat([Buffer.from('Exif\0\0'), thumbnail]));
  t.same(new JpegSplitter(1 << 20).push(image), [image]);
});

t.test('frames arriving one byte at a time come out whole', async (t) => {
  const a = fakeJpeg([1, 0xff, 0x00, 2, 0xff, 0xff, 0xd9 - 8]);
  const splitter = new JpegSplitter(1 << 20);
  const out: Buffer[] = [];
  for (const byte of Buffer.concat([a, a])) out.push(...splitter.push(Buffer.from([byte])));
  t.same(out, [a, a]);
  t.ok(isCompleteJpeg(out[0]!));
});

t.test('a frame larger than the limit is an error, not unbounded buffering', async (t) => {
  const splitter = new JpegSplitter(1000);
  splitter.push(Buffer.from([0xff, 0xd8, 0xff, 0xda, 0x00, 0x02]));
  t.throws(() => splitter.push(Buffer.alloc(2000, 1)), JpegSplitError);
});

t.test('garbage with no SOI is dropped and never buffered', async (t) => {
  const splitter = new JpegSplitter(1000);
  for (let i = 0; i < 100; i++) t.same(splitter.push(Buffer.alloc(10_000, 0x41)), []);
  t.equal(splitter.bufferedBytes, 0);
  t.equal(splitter.garbageBytes, 1_000_000);
});

t.test('a segment length below 2 is a protocol error', async (t) => {
  t.throws(() => new JpegSplitter(1000).push(Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x01, 0, 0])), /length 1/);
});

t.test('a plausible JPEG is whole (SOI..EOI) and of a size a camera can send', async (t) => {
  const image = fakeJpeg(new Array(120).fill(0x11));
  t.ok(isPlausibleJpeg(image));
  t.notOk(isPlausibleJpeg(image.subarray(0, image.length - 1)), 'no EOI');
  t.notOk(isPlausibleJpeg(fakeJpeg([0x11])), 'whole but smaller than any camera image');
});
