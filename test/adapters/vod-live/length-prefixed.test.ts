import t from 'tap';
import { LengthPrefixedJpegReader, LengthPrefixError, looksLengthPrefixed } from '../../../media/jpeg/length-prefixed.ts';
import { lengthPrefixed } from '../../helpers/media.ts';
import { prng } from '../../helpers/prng.ts';

const jpeg = (size: number, fill: number): Buffer => Buffer.concat([Buffer.from([0xff, 0xd8]), Buffer.alloc(size - 4, fill), Buffer.from([0xff, 0xd9])]);
const frames = [jpeg(100, 1), jpeg(4000, 2), jpeg(99_999, 3), jpeg(4, 4)];

t.test('reads every frame, whatever the chunking', async (t) => {
  const file = lengthPrefixed(frames);
  t.ok(looksLengthPrefixed(file));
  t.same(new LengthPrefixedJpegReader().push(file), frames, 'in one chunk');
  const random = prng(11);
  const reader = new LengthPrefixedJpegReader();
  const out: Buffer[] = [];
  for (let at = 0; at < file.length; ) {
    const size = 1 + Math.floor(random() * 3000);
    out.push(...reader.push(file.subarray(at, at + size)));
    at += size;
  }
  reader.end();
  t.same(out, frames, 'in random chunks');
});

t.test('a bad length is a clear error naming the byte offset', async (t) => {
  const good = lengthPrefixed([frames[0]!]);
  t.throws(() => new LengthPrefixedJpegReader().push(Buffer.concat([good, Buffer.from('12a45xxxxxxxxx')])), new LengthPrefixError('bad frame length at byte 105: not five digits'));
  t.throws(() => new LengthPrefixedJpegReader().push(Buffer.from('00000')), { message: /bad frame length 0 at byte 0/ });
  t.throws(() => new LengthPrefixedJpegReader().push(Buffer.from('-0100xxxx')), LengthPrefixError);
  t.throws(() => new LengthPrefixedJpegReader().push(Buffer.from(`00010${'x'.repeat(10)}`)), { message: /is not a JPEG/ });
});

t.test('a file that ends inside a frame (a length larger than what follows) is an error at the end', async (t) => {
  const reader = new LengthPrefixedJpegReader();
  const truncated = lengthPrefixed([frames[1]!]).subarray(0, 2000);
  t.same(reader.push(truncated), []);
  t.throws(() => reader.end(), { message: /ends inside the frame at byte 0/ });
});

t.test('garbage never crashes and never holds more than one frame', async (t) => {
  const random = prng(7);
  for (let round = 0; round < 300; round++) {
    const reader = new LengthPrefixedJpegReader();
    const garbage = Buffer.from(Array.from({ length: 1 + Math.floor(random() * 400) }, () => Math.floor(random() * 256)));
    try {
      reader.push(garbage);
      reader.end();
    } catch (error) {
      if (!(error instanceof LengthPrefixError)) throw error;
    }
  }
  const reader = new LengthPrefixedJpegReader();
  // A length larger than what the file holds is only known at its end.
  for (let i = 0; i < 20; i++) reader.push(i === 0 ? Buffer.from('99999') : Buffer.alloc(4000));
  t.throws(() => reader.end());
  t.pass('300 random inputs: only LengthPrefixErrors');
});
