// Flash and beep onsets of a recorded file, decoded with ffmpeg, and the offsets between them.
import { spawn } from 'node:child_process';

/** A frame is a flash above this luma (white is 235) and dark below the other (black is 16). */
const FLASH_Y = 128;
const DARK_Y = 64;
/** A window holds the beep above this RMS level (the beep is about -9 dBFS, silence -inf), silence below the other. */
const BEEP_DB = -30;
const SILENT_DB = -50;
/** Audio windows of 2 ms at 48 kHz: the beep onset is known to 2 ms, the flash to one frame. */
const WINDOW_SAMPLES = 96;

async function ffmpegOutput(args: readonly string[]): Promise<string> {
  const child = spawn('ffmpeg', ['-hide_banner', '-nostats', '-loglevel', 'error', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk));
  child.stderr.on('data', (chunk: Buffer) => (err += chunk));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  if (code !== 0) throw new Error(`ffmpeg ${args.join(' ')} exited with ${code}: ${err.slice(-500)}`);
  return out;
}

/** `metadata=print` output as (pts seconds, value) pairs for one key. */
function parseMetadata(text: string, key: string): Array<[number, number]> {
  const points: Array<[number, number]> = [];
  let pts = NaN;
  for (const line of text.split('\n')) {
    const frame = /pts_time:(-?[\d.]+)/.exec(line);
    if (frame) pts = Number(frame[1]);
    else if (line.startsWith(`${key}=`)) {
      const value = line.slice(key.length + 1);
      points.push([pts, value === '-inf' ? -Infinity : Number(value)]);
    }
  }
  return points;
}

/** Times where the value rises above `high` after having been below `low`. */
function onsets(points: ReadonlyArray<[number, number]>, low: number, high: number): number[] {
  const found: number[] = [];
  let armed = false;
  for (const [pts, value] of points) {
    if (value < low) armed = true;
    else if (armed && value > high) {
      found.push(pts);
      armed = false;
    }
  }
  return found;
}

export interface Onsets {
  readonly flashes: number[];
  readonly beeps: number[];
}

export async function fileOnsets(file: string): Promise<Onsets> {
  const video = await ffmpegOutput(['-i', file, '-map', '0:v:0', '-vf', 'signalstats,metadata=print:key=lavfi.signalstats.YAVG:file=-', '-f', 'null', '-']);
  const audio = await ffmpegOutput(['-i', file, '-map', '0:a:0', '-af',
    `aresample=48000,asetnsamples=n=${WINDOW_SAMPLES}:p=0,astats=metadata=1:reset=1,ametadata=print:key=lavfi.astats.Overall.RMS_level:file=-`,
    '-f', 'null', '-']);
  return {
    flashes: onsets(parseMetadata(video, 'lavfi.signalstats.YAVG'), DARK_Y, FLASH_Y),
    beeps: onsets(parseMetadata(audio, 'lavfi.astats.Overall.RMS_level'), SILENT_DB, BEEP_DB),
  };
}

export interface OffsetSummary {
  readonly pairs: number;
  readonly flashes: number;
  readonly beeps: number;
  /** Beep minus flash, ms: positive when the sound comes late. */
  readonly medianMs: number;
  readonly p95AbsMs: number;
  readonly maxAbsMs: number;
}

function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/** Pairs each flash with the nearest beep (within half a second, the flashes are a second apart). */
export function summarize({ flashes, beeps }: Onsets): OffsetSummary {
  const offsets: number[] = [];
  for (const flash of flashes) {
    let nearest: number | undefined;
    for (const beep of beeps) if (nearest === undefined || Math.abs(beep - flash) < Math.abs(nearest - flash)) nearest = beep;
    if (nearest !== undefined && Math.abs(nearest - flash) < 0.5) offsets.push((nearest - flash) * 1000);
  }
  const sorted = [...offsets].sort((a, b) => a - b);
  const absolute = offsets.map(Math.abs).sort((a, b) => a - b);
  return {
    pairs: offsets.length,
    flashes: flashes.length,
    beeps: beeps.length,
    medianMs: offsets.length ? quantile(sorted, 0.5) : NaN,
    p95AbsMs: offsets.length ? quantile(absolute, 0.95) : NaN,
    maxAbsMs: offsets.length ? absolute.at(-1)! : NaN,
  };
}
