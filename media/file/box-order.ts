import { VodError } from './errors.ts';

/** Reads `length` bytes at `offset` (fewer at the end of the file). */
export type ByteReader = (offset: number, length: number) => Promise<Buffer>;

/** Largest `moov` box the relay reads before playing: a bigger index means a file too long to start quickly. */
export const MAX_MOOV_BYTES = 64 * 1024 * 1024;
/** Top-level boxes looked at before giving up (a real MP4 has a handful). */
const MAX_BOXES = 64;

/** The command that moves an MP4's index to its start, told to anyone whose file has it at the end. */
export const FASTSTART_HINT = 'ffmpeg -i in.mp4 -c copy -movflags +faststart out.mp4';

/** How an object's bytes are laid out, as far as progressive playback cares. */
export type BoxOrder =
  | { readonly kind: 'moov-first'; readonly moovEnd: number }
  | { readonly kind: 'moov-last' }
  | { readonly kind: 'not-mp4' };

/** Why an MP4 whose index is at the end is refused, and how to fix the file. */
export const MOOV_LAST_MESSAGE = `The MP4 file has its index (moov) after the media data, so it cannot play while it downloads; move it to the start with: ${FASTSTART_HINT}`;

const TOP_LEVEL = new Set(['ftyp', 'styp', 'moov', 'mdat', 'free', 'skip', 'wide', 'uuid', 'pdin', 'meta', 'moof', 'mfra', 'sidx', 'prft', 'emsg']);

/**
 * Walks the top-level boxes of an ISO BMFF (MP4) file through `read`, reading only their headers. An MP4 whose `moov`
 * comes after `mdat` (`moov-last`) cannot be played while it downloads: the caller refuses it with MOOV_LAST_MESSAGE or
 * fetches it whole first. A
 * file that does not start like an MP4 is `not-mp4` (another container, left to ffmpeg).
 */
export async function mp4BoxOrder(read: ByteReader, size: number): Promise<BoxOrder> {
  let offset = 0;
  for (let index = 0; index < MAX_BOXES && offset + 8 <= size; index++) {
    const header = await read(offset, 16);
    if (header.length < 8) break;
    const type = header.toString('latin1', 4, 8);
    if (!TOP_LEVEL.has(type)) {
      if (index === 0) return { kind: 'not-mp4' };
      throw new VodError('NOT_VIDEO', `The MP4 file is damaged: an unknown box at byte ${offset}`);
    }
    let boxSize = header.readUInt32BE(0);
    if (boxSize === 1) {
      if (header.length < 16) break;
      boxSize = Number(header.readBigUInt64BE(8));
    } else if (boxSize === 0) boxSize = size - offset;
    if (boxSize < 8) throw new VodError('NOT_VIDEO', `The MP4 file is damaged: a box of ${boxSize} bytes at byte ${offset}`);
    if (type === 'moov') {
      if (boxSize > MAX_MOOV_BYTES) throw new VodError('NOT_VIDEO', `The MP4 file's index (moov) is ${boxSize} bytes, more than the ${MAX_MOOV_BYTES} the relay reads before playing`);
      return { kind: 'moov-first', moovEnd: offset + boxSize };
    }
    if (type === 'mdat') return { kind: 'moov-last' };
    if (type === 'moof') return { kind: 'moov-first', moovEnd: offset };
    offset += boxSize;
  }
  throw new VodError('NOT_VIDEO', 'The MP4 file has no index (moov box)');
}
