import { createReadStream } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { JpegSplitError, JpegSplitter } from '../../media/jpeg/splitter.ts';
import { AdapterError } from '../errors.ts';
import { LengthPrefixedJpegReader, LengthPrefixError } from '../../media/jpeg/length-prefixed.ts';
import { jpegUnit } from '../../media/types.ts';
import type { PassContext } from './pass.ts';

/** Read size: small enough that a paused reader holds little, large enough for few reads per frame. */
const READ_CHUNK_BYTES = 64 * 1024;

/**
 * Plays a JPEG file once in real time at `fps`: a plain concatenation of JPEGs, or the five-digit-length format.
 * The file is read as frames are due (the async iterator pauses the read stream), so memory stays at about one chunk
 * plus one frame whatever the file's size. Resolves with the timestamp the next pass starts at.
 */
export async function playJpegPass(context: PassContext, lengthPrefixed: boolean): Promise<number> {
  const { path, offsetMs, signal, emit, fps } = context;
  const interval = 1000 / fps;
  const splitter = lengthPrefixed ? new LengthPrefixedJpegReader() : new JpegSplitter(context.maxFrameBytes);
  const startedAt = performance.now();
  let index = 0;
  const stream = createReadStream(path, { highWaterMark: READ_CHUNK_BYTES, signal });
  try {
    for await (const chunk of stream) {
      for (const data of splitter.push(chunk as Buffer)) {
        const wait = startedAt + index * interval - performance.now();
        if (wait > 0) await sleep(wait, undefined, { signal });
        emit(jpegUnit(data, offsetMs + index * interval));
        index++;
      }
    }
    if (splitter instanceof LengthPrefixedJpegReader) splitter.end();
  } catch (error) {
    if (signal.aborted) return offsetMs + index * interval;
    if (error instanceof LengthPrefixError || error instanceof JpegSplitError) throw new AdapterError('PROTOCOL', error.message);
    throw new AdapterError('CLOSED', `cannot read the file: ${(error as NodeJS.ErrnoException).code ?? 'read error'}`);
  } finally {
    stream.destroy();
  }
  if (index === 0) throw new AdapterError('PROTOCOL', 'the file holds no JPEG frames');
  return offsetMs + index * interval;
}
