import { open, type FileHandle } from 'node:fs/promises';

/** Fragments larger than this are not read (ours are about one second of video); the scan stops there. */
const MAX_MOOF_BYTES = 1024 * 1024;
const MAX_MOOV_BYTES = 1024 * 1024;
/** A file with more top-level boxes than this is not one of ours; the scan stops there. */
const MAX_BOXES = 100_000;

/** What a scan of a fragmented MP4 found: the media time its whole fragments cover. */
export interface Mp4Scan {
  /** Seconds from the first fragment's start to the end of the last whole fragment; 0 when none is whole. */
  readonly durationSeconds: number;
  readonly fragments: number;
  /** True when the file ends inside a box (a crash or a cut), so the tail after the last whole fragment is lost. */
  readonly truncated: boolean;
  /** Media times (seconds) of the picture's fragments that begin with a keyframe, in file order. */
  readonly keyframes: readonly number[];
  /** Media times (seconds) where the picture's fragments begin: there both tracks are whole, so a copy can end there. */
  readonly fragmentStarts: readonly number[];
}

/** Thrown when the file is not a fragmented MP4 at all (no ftyp first, or no timescale). */
export class Mp4ScanError extends Error {
  override readonly name = 'Mp4ScanError';
}

interface Box {
  readonly type: string;
  readonly start: number;
  readonly size: number;
  readonly headerSize: number;
}

async function readBox(file: FileHandle, start: number, fileSize: number): Promise<Box | undefined> {
  if (start + 8 > fileSize) return undefined;
  const head = Buffer.alloc(16);
  await file.read(head, 0, 16, start);
  let size = head.readUInt32BE(0);
  const type = head.toString('latin1', 4, 8);
  let headerSize = 8;
  if (size === 1) {
    size = Number(head.readBigUInt64BE(8));
    headerSize = 16;
  } else if (size === 0) size = fileSize - start;
  if (size < headerSize) throw new Mp4ScanError(`bad size ${size} of box '${type}' at ${start}`);
  return { type, start, size, headerSize };
}

/** Children of a container box held in memory. */
function* children(data: Buffer, from = 0): Generator<{ type: string; body: Buffer }> {
  let offset = from;
  while (offset + 8 <= data.length) {
    const size = data.readUInt32BE(offset);
    if (size < 8 || offset + size > data.length) return;
    yield { type: data.toString('latin1', offset + 4, offset + 8), body: data.subarray(offset + 8, offset + size) };
    offset += size;
  }
}

function find(data: Buffer, path: string[]): Buffer | undefined {
  let current: Buffer | undefined = data;
  for (const type of path) {
    current = current ? [...children(current)].find((child) => child.type === type)?.body : undefined;
  }
  return current;
}

/** The video track's (the first trak's) ID and timescale from moov/trak/tkhd and moov/trak/mdia/mdhd. */
function videoTrackOf(moov: Buffer): { id: number; timescale: number } {
  const tkhd = find(moov, ['trak', 'tkhd']);
  if (!tkhd || tkhd.length < 24) throw new Mp4ScanError('no tkhd in moov');
  const id = tkhd[0] === 1 ? tkhd.readUInt32BE(20) : tkhd.readUInt32BE(12);
  const mdhd = find(moov, ['trak', 'mdia', 'mdhd']);
  if (!mdhd || mdhd.length < 24) throw new Mp4ScanError('no mdhd in moov');
  const timescale = mdhd[0] === 1 ? mdhd.readUInt32BE(20) : mdhd.readUInt32BE(12);
  if (timescale === 0) throw new Mp4ScanError('timescale 0');
  return { id, timescale };
}

/** Track, start (tfdt) and length of one fragment, in its track's timescale units. */
function fragmentSpan(moof: Buffer): { track: number; start: number; length: number; sync: boolean } {
  const traf = find(moof, ['traf']);
  if (!traf) throw new Mp4ScanError('moof without traf');
  let start = 0;
  let defaultDuration = 0;
  let length = 0;
  let track = 0;
  let sync = false;
  for (const { type, body } of children(traf)) {
    if (type === 'tfdt' && body.length >= 8) start = body[0] === 1 && body.length >= 12 ? Number(body.readBigUInt64BE(4)) : body.readUInt32BE(4);
    if (type === 'tfhd' && body.length >= 8) {
      track = body.readUInt32BE(4);
      const flags = body.readUIntBE(1, 3);
      let offset = 8 + (flags & 0x1 ? 8 : 0) + (flags & 0x2 ? 4 : 0);
      if (flags & 0x8 && body.length >= offset + 4) defaultDuration = body.readUInt32BE(offset);
      offset += 4;
    }
    if (type === 'trun' && body.length >= 8) {
      const flags = body.readUIntBE(1, 3);
      const count = body.readUInt32BE(4);
      let offset = 8 + (flags & 0x1 ? 4 : 0) + (flags & 0x4 ? 4 : 0);
      const entrySize = [0x100, 0x200, 0x400, 0x800].filter((bit) => flags & bit).length * 4;
      // The first sample's flags (ISO/IEC 14496-12 8.8.3.1): sample_depends_on 2 is a sync sample.
      const firstFlagsAt = flags & 0x4 ? 8 + (flags & 0x1 ? 4 : 0) : flags & 0x400 ? offset + (flags & 0x100 ? 4 : 0) + (flags & 0x200 ? 4 : 0) : -1;
      if (firstFlagsAt >= 0 && firstFlagsAt + 4 <= body.length && count > 0) sync = ((body.readUInt32BE(firstFlagsAt) >>> 24) & 0x3) === 2;
      if (!(flags & 0x100)) length += count * defaultDuration;
      else {
        for (let i = 0; i < count && offset + 4 <= body.length; i++, offset += entrySize) length += body.readUInt32BE(offset);
      }
    }
  }
  return { track, start, length, sync };
}

/**
 * Walks the top-level boxes of a fragmented MP4 as the recorder writes it (ftyp, moov, then moof+mdat pairs) and
 * measures the media time of the fragments that are whole on disk. A truncated tail is reported, not an error.
 */
export async function scanFragmentedMp4(path: string): Promise<Mp4Scan> {
  const file = await open(path, 'r');
  try {
    const fileSize = (await file.stat()).size;
    let offset = 0;
    let video: { id: number; timescale: number } | undefined;
    let first: number | undefined;
    let end = 0;
    let fragments = 0;
    let pendingMoof: ReturnType<typeof fragmentSpan> | undefined;
    const keyframes: number[] = [];
    const fragmentStarts: number[] = [];
    let truncated = false;
    for (let count = 0; count < MAX_BOXES; count++) {
      const box = await readBox(file, offset, fileSize);
      if (!box) {
        truncated = offset < fileSize;
        break;
      }
      if (count === 0 && box.type !== 'ftyp') throw new Mp4ScanError(`starts with '${box.type.replace(/[^\x20-\x7e]/g, '?')}', not ftyp`);
      if (box.start + box.size > fileSize) {
        truncated = true;
        break;
      }
      if (box.type === 'moov' || box.type === 'moof') {
        if (box.size > (box.type === 'moov' ? MAX_MOOV_BYTES : MAX_MOOF_BYTES)) break;
        const body = Buffer.alloc(box.size - box.headerSize);
        await file.read(body, 0, body.length, box.start + box.headerSize);
        if (box.type === 'moov') video = videoTrackOf(body);
        else pendingMoof = fragmentSpan(body);
      } else if (box.type === 'mdat' && pendingMoof) {
        // Sound fragments (another track, another timescale) do not change the span the picture covers.
        if (pendingMoof.track === video?.id) {
          first ??= pendingMoof.start;
          end = pendingMoof.start + pendingMoof.length;
          fragmentStarts.push(pendingMoof.start / video.timescale);
          if (pendingMoof.sync) keyframes.push(pendingMoof.start / video.timescale);
        }
        fragments++;
        pendingMoof = undefined;
      }
      offset = box.start + box.size;
    }
    if (video === undefined) throw new Mp4ScanError('no moov box');
    return { durationSeconds: first === undefined ? 0 : (end - first) / video.timescale, fragments, truncated, keyframes, fragmentStarts };
  } catch (error) {
    // A field that points outside its box: the file is damaged, which is what callers handle.
    if (error instanceof RangeError) throw new Mp4ScanError(`damaged box: ${error.message}`);
    throw error;
  } finally {
    await file.close();
  }
}
