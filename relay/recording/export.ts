import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { PassThrough, type Readable } from 'node:stream';
import { JpegSplitter } from '../../media/jpeg/splitter.ts';
import { spawnProcess, type RunningProcess } from '../../lib/ffmpeg-runner.ts';
import { scanFragmentedMp4 } from './mp4-scan.ts';
import type { Segment } from './segment-index.ts';

// The ZIP writer is loaded with the first export: most relays never write one.
const require = createRequire(import.meta.url);

/** One JPEG the frame export decodes is at most this large. */
const MAX_JPEG_BYTES = 8 * 1024 * 1024;
/** JPEGs handed to the ZIP but not yet sent beyond this pause the decoder: a slow client must not grow memory. */
const MAX_ZIP_BACKLOG_BYTES = 8 * 1024 * 1024;

/** A stream of bytes made by ffmpeg, with a way to stop it early (the client left). */
export interface Export {
  readonly body: Readable;
  cancel(): void;
}

/**
 * Writes `file '...'` lines for the concat demuxer; our paths never hold quotes, but a quote is escaped anyway. A
 * segment whose span runs past the next one's start (its first frames came in a burst, as at an encoder start) is
 * cut where the next begins, so no second of the range is played twice.
 */
export function concatList(root: string, segments: readonly Segment[], from: number, to: number): string {
  const lines = ['ffconcat version 1.0'];
  segments.forEach((segment, i) => {
    const next = segments[i + 1];
    const end = Math.min(to, next && next.start < segment.end ? next.start : segment.end);
    lines.push(`file '${join(root, segment.path).replaceAll("'", "'\\''")}'`);
    if (from > segment.start) lines.push(`inpoint ${((from - segment.start) / 1000).toFixed(3)}`);
    if (end < segment.end) lines.push(`outpoint ${((end - segment.start) / 1000).toFixed(3)}`);
  });
  return `${lines.join('\n')}\n`;
}

/** ffmpeg arguments that stitch the listed segments into one fragmented MP4 on stdout, without re-encoding; the sound too, where recorded. */
export function exportMp4Args(listFile: string): string[] {
  return [
    '-hide_banner', '-nostats', '-loglevel', 'error', '-f', 'concat', '-safe', '0', '-i', listFile,
    '-map', '0:v:0', '-map', '0:a:0?', '-c', 'copy', '-f', 'mp4', '-movflags', '+frag_keyframe+empty_moov+default_base_moof', 'pipe:1',
  ];
}

/**
 * ffmpeg arguments that decode `count` JPEGs at `fps` from one segment, starting `offset` seconds in. The count, not a
 * duration, bounds the output: the fps filter would drop the last picture of a cut that ends between two frames.
 */
export function exportFramesArgs(file: string, offset: number, count: number, fps: number): string[] {
  return [
    '-hide_banner', '-nostats', '-loglevel', 'error', '-ss', offset.toFixed(3), '-i', file,
    '-map', '0:v:0', '-vf', `fps=${fps}`, '-frames:v', String(count), '-c:v', 'mjpeg', '-q:v', '3', '-f', 'image2pipe', 'pipe:1',
  ];
}

/** Streams one MP4 of [from, to) stitched from `segments` (cut at keyframes at either end). */
export async function exportMp4(ffmpegPath: string, root: string, segments: readonly Segment[], from: number, to: number): Promise<Export> {
  const dir = await mkdtemp(join(tmpdir(), 'relay-export-'));
  const listFile = join(dir, 'list.ffconcat');
  const start = await keyframeAtOrBefore(root, segments[0], from);
  await writeFile(listFile, concatList(root, segments, start, await fragmentStartAtOrAfter(root, segments.at(-1), to)));
  const stop = new AbortController();
  const child = spawnProcess({ command: ffmpegPath, args: exportMp4Args(listFile), signal: stop.signal });
  void child.exit.then(() => rm(dir, { recursive: true, force: true }));
  return { body: child.stdout, cancel: () => stop.abort() };
}

/**
 * Where a copy can start: the first segment's last keyframe at or before `from`. ffmpeg's concat demuxer starts the
 * picture there anyway but the sound at `from`, and lays both from time 0, which would put the sound early.
 */
async function keyframeAtOrBefore(root: string, first: Segment | undefined, from: number): Promise<number> {
  if (!first || from <= first.start) return from;
  const scan = await scanFragmentedMp4(join(root, first.path)).catch(() => undefined);
  const offset = scan?.keyframes.filter((seconds) => first.start + seconds * 1000 <= from).at(-1);
  return offset === undefined ? from : first.start + offset * 1000;
}

/**
 * Where a copy can end: the last segment's first fragment boundary at or after `to`. The demuxer ends a file at its
 * first packet past the end, and the sound of a span is stored after its picture, so ending inside a fragment would
 * cut the sound short by up to a fragment.
 */
async function fragmentStartAtOrAfter(root: string, last: Segment | undefined, to: number): Promise<number> {
  if (!last || to >= last.end) return to;
  const scan = await scanFragmentedMp4(join(root, last.path)).catch(() => undefined);
  const offset = scan?.fragmentStarts.find((seconds) => last.start + seconds * 1000 >= to);
  return offset === undefined ? to : last.start + offset * 1000;
}

/** The name of a frame taken at `ms`: its UTC time, e.g. 2026-11-21T12-00-05.000Z.jpg. */
export function frameName(ms: number): string {
  return `${new Date(ms).toISOString().replaceAll(':', '-')}.jpg`;
}

/**
 * Streams a ZIP (yazl) of JPEGs at `fps` over [from, to), each named by its UTC time. Segments are decoded one after
 * another, so a gap between them leaves a gap in the names rather than shifting the times after it.
 */
export function exportFrames(ffmpegPath: string, root: string, segments: readonly Segment[], from: number, to: number, fps: number): Export {
  const yazl = require('yazl') as typeof import('yazl');
  const zip = new yazl.ZipFile();
  const out = new PassThrough();
  zip.outputStream.pipe(out);
  let child: RunningProcess | undefined;
  let added = 0;
  let sent = 0;
  zip.outputStream.on('data', (chunk: Buffer) => {
    sent += chunk.length;
    if (added - sent < MAX_ZIP_BACKLOG_BYTES / 2) child?.stdout.resume();
  });
  const stop = new AbortController();
  const step = 1000 / fps;
  void (async () => {
    let next: number | undefined;
    for (const segment of segments) {
      // First frame time on the fps grid from `from`, inside this segment; a grid time that fell between the end of
      // the previous segment's last picture and this segment's start takes this segment's first picture. Segment
      // times are wall-clock starts plus media spans, so one may end a few ms after the next starts: a time the
      // previous segment already gave is never given again.
      let begin = from + Math.max(0, Math.ceil((segment.start - from) / step)) * step;
      if (next !== undefined && (next > begin || segment.start - next < step)) begin = next;
      const end = Math.min(to, segment.end);
      if (stop.signal.aborted || begin >= end) continue;
      let taken = begin;
      const splitter = new JpegSplitter(MAX_JPEG_BYTES);
      const args = exportFramesArgs(join(root, segment.path), Math.max(0, begin - segment.start) / 1000, Math.ceil((end - begin) / step), fps);
      const run = spawnProcess({ command: ffmpegPath, args, signal: stop.signal });
      child = run;
      run.stdout.on('data', (chunk: Buffer) => {
        try {
          for (const jpeg of splitter.push(chunk)) {
            if (taken < end) zip.addBuffer(jpeg, frameName(taken), { compress: false, mtime: new Date(taken) });
            added += jpeg.length;
            taken += step;
          }
          if (added - sent > MAX_ZIP_BACKLOG_BYTES) run.stdout.pause();
        } catch {
          run.kill();
        }
      });
      const exit = await run.exit;
      if (!exit.startError) next = taken;
    }
    zip.end();
  })();
  return {
    body: out,
    cancel: () => stop.abort(),
  };
}
