import t from 'tap';
import { ByteBuffer } from '../../../lib/byte-buffer.ts';
import { AdapterError } from '../../../adapters/errors.ts';
import {
  VIDEOGRAM_HEADER_BYTES, takeTextReply, takeVideogram, type Videogram, type VideogramLimits,
} from '../../../adapters/vbc/protocol.ts';
import { videogram } from './simulator.ts';
import { prng } from '../../helpers/prng.ts';

const INPUTS = 100_000;
const TEXT_LIMIT = 256;


const random = prng(0x5eed_c10);
const int = (n: number): number => Math.floor(random() * n);
const bytes = (n: number): Buffer => Buffer.from(Array.from({ length: n }, () => int(256)));

/** A plausible reply stream: frames and other messages of random sizes within (or near) the limits. */
function validStream(limits: VideogramLimits): { stream: Buffer; messages: Videogram[] } {
  const messages: Videogram[] = [];
  for (let i = int(4); i >= 0; i--) {
    const id = random() < 0.5 ? 0x02 : int(256);
    const max = id === 0x02 ? limits.maxFramePayload : limits.maxOtherPayload;
    messages.push({ id, header: int(1 << 24), payload: bytes(int(Math.min(max, 300) + 1)) });
  }
  return { stream: Buffer.concat(messages.map((m) => videogram(m.id, m.header, m.payload))), messages };
}

/** Flips, truncates, inserts, duplicates or rewrites a length field. */
function mutate(input: Buffer): Buffer {
  const out = Buffer.from(input);
  switch (int(5)) {
    case 0:
      for (let i = int(4) + 1; i > 0 && out.length; i--) {
        const at = int(out.length);
        out[at] = out[at]! ^ (1 << int(8));
      }
      return out;
    case 1:
      return out.subarray(0, int(out.length + 1));
    case 2: {
      const at = int(out.length + 1);
      return Buffer.concat([out.subarray(0, at), bytes(int(16) + 1), out.subarray(at)]);
    }
    case 3:
      return Buffer.concat([out, out.subarray(int(out.length + 1))]);
    default:
      if (out.length >= VIDEOGRAM_HEADER_BYTES) out.writeUInt32BE(random() < 0.5 ? int(2000) : int(2 ** 32), 4);
      return out;
  }
}

/** Feeds `input` in random chunks, draining after each; checks errors and the bytes held. */
function feedVideograms(input: Buffer, limits: VideogramLimits): { messages: Videogram[]; error?: AdapterError } {
  const buffer = new ByteBuffer(64);
  const messages: Videogram[] = [];
  const bound = VIDEOGRAM_HEADER_BYTES + Math.max(limits.maxFramePayload, limits.maxOtherPayload);
  for (let at = 0; at < input.length; ) {
    const size = random() < 0.3 ? 1 : int(64) + 1;
    buffer.append(input.subarray(at, at + size));
    at += size;
    try {
      for (let message = takeVideogram(buffer, limits); message; message = takeVideogram(buffer, limits)) messages.push(message);
    } catch (error) {
      if (error instanceof AdapterError && error.code === 'PROTOCOL') return { messages, error };
      throw error;
    }
    if (buffer.length >= bound) throw new Error(`held ${buffer.length} bytes, bound ${bound}`);
  }
  return { messages };
}

function sameMessages(a: Videogram[], b: Videogram[]): boolean {
  return a.length === b.length && a.every((m, i) => m.id === b[i]!.id && m.header === b[i]!.header && m.payload.equals(b[i]!.payload));
}

/** Feeds `input` to the text reply parser in random chunks; checks errors and the bytes held. */
function feedText(input: Buffer): void {
  const buffer = new ByteBuffer(64);
  for (let at = 0; at < input.length; ) {
    const size = int(64) + 1;
    buffer.append(input.subarray(at, at + size));
    at += size;
    try {
      while (takeTextReply(buffer, TEXT_LIMIT) !== undefined);
    } catch (error) {
      if (error instanceof AdapterError && error.code === 'PROTOCOL') return;
      throw error;
    }
    if (buffer.length >= TEXT_LIMIT) throw new Error(`text parser held ${buffer.length} bytes`);
  }
}

t.test(`videogram and text parsers survive ${INPUTS} random and mutated inputs`, async (t) => {
  const small: VideogramLimits = { maxFramePayload: 400, maxOtherPayload: 40 };
  const reference: VideogramLimits = { maxFramePayload: 2_000_000, maxOtherPayload: 1_000 };
  let rejected = 0;
  let parsed = 0;
  let roundTrips = 0;
  let unexpected: unknown;
  const startedAt = performance.now();
  for (let i = 0; i < INPUTS && !unexpected; i++) {
    const limits = i % 2 ? small : reference;
    try {
      let input: Buffer;
      const kind = i % 4;
      if (kind === 0) {
        input = bytes(int(200));
      } else if (kind === 1) {
        // Unmutated streams must come back exactly: the fuzz also checks the parser is right, not only that it survives.
        const { stream, messages } = validStream(limits);
        const result = feedVideograms(stream, limits);
        if (result.error || !sameMessages(result.messages, messages)) throw new Error('valid stream misparsed');
        roundTrips++;
        input = mutate(stream);
      } else {
        input = mutate(validStream(limits).stream);
        if (kind === 3) input = mutate(input);
      }
      const result = feedVideograms(input, limits);
      if (result.error) rejected++;
      parsed += result.messages.length;
      feedText(input);
    } catch (error) {
      unexpected = { input: i, error };
    }
  }
  const seconds = (performance.now() - startedAt) / 1000;
  t.comment(`${INPUTS} inputs in ${seconds.toFixed(1)} s: ${parsed} messages parsed, ${rejected} rejected, ${roundTrips} round trips`);
  t.same(unexpected, undefined, 'only AdapterError(PROTOCOL) thrown and bounded buffers, for every input');
  t.ok(rejected > INPUTS / 20, 'the inputs reach the error paths');
  t.ok(parsed > INPUTS / 2, 'the inputs reach the parse paths');
});
