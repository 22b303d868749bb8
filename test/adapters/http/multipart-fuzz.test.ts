import t from 'tap';
import { isCompleteJpeg } from '../../../media/jpeg/splitter.ts';
import { AdapterError } from '../../../adapters/errors.ts';
import { MultipartParser, type MultipartLimits } from '../../../adapters/http/multipart.ts';
import { fakeJpeg, part, type PartStyle } from './fake-camera.ts';
import { prng } from '../../helpers/prng.ts';

const LIMITS: MultipartLimits = { maxPartBytes: 1024, maxHeaderBytes: 256, maxGarbageBytes: 512 };
const MAX_BUFFERED = Math.max(LIMITS.maxPartBytes, LIMITS.maxHeaderBytes, LIMITS.maxGarbageBytes);
const INPUTS = 100_000;


const BOUNDARIES = ['myboundary', '--LivescopeImage', 'ffmpeg', undefined] as const;

/** A valid stream in one of the styles real cameras use, to be mutated. */
function validStream(random: () => number, boundary: string | undefined): Buffer {
  const name = (boundary ?? 'ffmpeg').replace(/^-+/, '');
  const parts: Buffer[] = [];
  const count = 1 + Math.floor(random() * 4);
  for (let i = 0; i < count; i++) {
    const style: PartStyle = {
      delimiter: `${random() < 0.2 ? '----' : '--'}${name}`,
      contentLength: random() < 0.6,
      headerCase: random() < 0.3 ? 'upper' : random() < 0.5 ? 'lower' : 'title',
      afterPart: random() < 0.2 ? '\r\n\r\n\r\n' : '\r\n',
    };
    parts.push(part(fakeJpeg(Math.floor(random() * 1e9), Math.floor(random() * 200)), style));
  }
  return Buffer.concat(parts);
}

function mutate(input: Buffer, random: () => number): Buffer {
  let bytes = Buffer.from(input);
  const edits = 1 + Math.floor(random() * 4);
  for (let e = 0; e < edits; e++) {
    const at = Math.floor(random() * bytes.length);
    const kind = Math.floor(random() * 5);
    if (kind === 0) bytes[at] = Math.floor(random() * 256); // flip a byte
    else if (kind === 1) bytes = bytes.subarray(0, at); // truncate
    else if (kind === 2) bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + Math.floor(random() * 64))]); // delete
    else if (kind === 3) bytes = Buffer.concat([bytes.subarray(0, at), Buffer.from(randomBytes(random, 1 + Math.floor(random() * 32))), bytes.subarray(at)]);
    else bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at, at + 200), bytes.subarray(at)]); // duplicate a slice
  }
  return bytes;
}

function randomBytes(random: () => number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  // Bias towards the bytes the parser looks at: dashes, CR, LF, colons, FF, D8, D9.
  const interesting = [0x2d, 0x0d, 0x0a, 0x3a, 0xff, 0xd8, 0xd9, 0x00];
  for (let i = 0; i < length; i++) out[i] = random() < 0.3 ? interesting[Math.floor(random() * interesting.length)]! : Math.floor(random() * 256);
  return out;
}

// Guards against crashes, foreign exceptions and unbounded buffering on hostile multipart bodies.
t.test(`${INPUTS} random and mutated multipart bodies: only PROTOCOL errors, bounded buffers, whole JPEGs out`, async (t) => {
  const seed = 0x5eed1234;
  const random = prng(seed);
  const outcomes = { frames: 0, errors: 0, dropped: 0 };
  let maxBuffered = 0;
  const started = Date.now();
  for (let i = 0; i < INPUTS; i++) {
    const boundary = BOUNDARIES[Math.floor(random() * BOUNDARIES.length)];
    const input = random() < 0.15
      ? Buffer.from(randomBytes(random, Math.floor(random() * 1500)))
      : mutate(validStream(random, boundary), random);
    const parser = new MultipartParser(boundary, LIMITS);
    try {
      for (let at = 0; at < input.length;) {
        const size = 1 + Math.floor(random() * (random() < 0.5 ? 8 : 400));
        for (const frame of parser.push(input.subarray(at, at + size))) {
          outcomes.frames++;
          if (!isCompleteJpeg(frame) || frame.length > LIMITS.maxPartBytes) throw new Error(`input ${i}: a frame that is not a whole JPEG within limits`);
        }
        maxBuffered = Math.max(maxBuffered, parser.bufferedBytes);
        if (parser.bufferedBytes > MAX_BUFFERED) throw new Error(`input ${i}: ${parser.bufferedBytes} bytes buffered`);
        at += size;
      }
    } catch (error) {
      if (!(error instanceof AdapterError) || error.code !== 'PROTOCOL') {
        t.fail(`seed ${seed} input ${i}: unexpected ${String(error)}`);
        return;
      }
      outcomes.errors++;
    }
    outcomes.dropped += parser.droppedParts;
  }
  t.comment(`${INPUTS} inputs in ${Date.now() - started} ms: ${JSON.stringify(outcomes)}, most bytes buffered ${maxBuffered}`);
  t.ok(outcomes.frames > INPUTS / 2, 'most mutated streams still yield frames');
  t.ok(outcomes.errors > 0 && outcomes.dropped > 0, 'the inputs reach the error and drop paths');
  t.ok(maxBuffered <= MAX_BUFFERED, `buffered bytes stay within ${MAX_BUFFERED}`);
});
