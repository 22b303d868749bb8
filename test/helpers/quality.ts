/**
 * Picture-quality arithmetic on decoded luma frames: matching each frame a viewer got to the source frame it shows,
 * PSNR and SSIM against it, and the evenness of the frames' timing. Pure functions; capturing and decoding live in
 * quality-capture.ts.
 */

/** Luma frames of one size, 8 bits per pixel, row after row. */
export interface GrayFrames {
  readonly width: number;
  readonly height: number;
  readonly frames: readonly Uint8Array[];
}

/** A thumbnail edge in pixels: 16x16 blocks are averaged, so coding noise hardly moves the match. */
const BLOCK = 16;

function thumbnail(frame: Uint8Array, width: number, height: number): Float32Array {
  const columns = Math.floor(width / BLOCK);
  const rows = Math.floor(height / BLOCK);
  const out = new Float32Array(columns * rows);
  for (let y = 0; y < rows * BLOCK; y++) {
    const row = Math.floor(y / BLOCK) * columns;
    for (let x = 0; x < columns * BLOCK; x++) out[row + Math.floor(x / BLOCK)]! += frame[y * width + x]!;
  }
  return out;
}

function distance(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i]! - b[i]!);
  return sum;
}

/** Luma PSNR in dB (capped at 99 for identical frames). */
export function psnr(a: Uint8Array, b: Uint8Array): number {
  let squared = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i]! - b[i]!;
    squared += d * d;
  }
  const mse = squared / a.length;
  return mse === 0 ? 99 : 10 * Math.log10((255 * 255) / mse);
}

/** Mean SSIM over 8x8 windows stepped by 4 pixels (the usual constants for 8-bit samples). */
export function ssim(a: Uint8Array, b: Uint8Array, width: number, height: number): number {
  const c1 = (0.01 * 255) ** 2;
  const c2 = (0.03 * 255) ** 2;
  let total = 0;
  let windows = 0;
  for (let y0 = 0; y0 + 8 <= height; y0 += 4) {
    for (let x0 = 0; x0 + 8 <= width; x0 += 4) {
      let sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0;
      for (let y = y0; y < y0 + 8; y++) {
        for (let x = x0; x < x0 + 8; x++) {
          const p = a[y * width + x]!;
          const q = b[y * width + x]!;
          sa += p; sb += q; saa += p * p; sbb += q * q; sab += p * q;
        }
      }
      const ma = sa / 64, mb = sb / 64;
      const va = saa / 64 - ma * ma, vb = sbb / 64 - mb * mb, cov = sab / 64 - ma * mb;
      total += ((2 * ma * mb + c1) * (2 * cov + c2)) / ((ma * ma + mb * mb + c1) * (va + vb + c2));
      windows++;
    }
  }
  return windows === 0 ? 0 : total / windows;
}

/** How the frames a viewer got compare with the source frames they show. */
export interface PictureScore {
  /** Frames compared. */
  readonly frames: number;
  readonly psnrMean: number;
  /** The worst frame's PSNR. */
  readonly psnrMin: number;
  readonly ssimMean: number;
  /** For each decoded frame, the index of the source frame it matched best. */
  readonly matched: readonly number[];
}

/**
 * Matches every decoded frame to the reference frame it looks most like (by 16x16 block means), then scores the pair.
 * Both sets must have the same size (decode the viewer's frames scaled to the reference size).
 */
export function scorePicture(reference: GrayFrames, decoded: GrayFrames, options: { ssimEvery?: number } = {}): PictureScore {
  if (reference.width !== decoded.width || reference.height !== decoded.height) {
    throw new Error(`reference is ${reference.width}x${reference.height}, decoded ${decoded.width}x${decoded.height}`);
  }
  if (decoded.frames.length === 0) throw new Error('no decoded frames to score');
  const { width, height } = reference;
  const thumbs = reference.frames.map((frame) => thumbnail(frame, width, height));
  const matched: number[] = [];
  const psnrs: number[] = [];
  const ssims: number[] = [];
  const ssimEvery = options.ssimEvery ?? 5;
  decoded.frames.forEach((frame, n) => {
    const thumb = thumbnail(frame, width, height);
    const distances = thumbs.map((candidate) => distance(thumb, candidate));
    const least = Math.min(...distances);
    // Patterns come close to repeating (testsrc2 every 12 s): of the frames nearly as close as the closest, take the
    // one the fewest frames after the previous match.
    const previous = matched.at(-1);
    let best = distances.indexOf(least);
    if (previous !== undefined) {
      const steps = (index: number): number => (index - previous + thumbs.length) % thumbs.length;
      distances.forEach((d, index) => {
        if (d <= least * 1.1 + thumb.length && steps(index) < steps(best)) best = index;
      });
    }
    matched.push(best);
    const source = reference.frames[best]!;
    psnrs.push(psnr(source, frame));
    if (n % ssimEvery === 0) ssims.push(ssim(source, frame, width, height));
  });
  const mean = (values: number[]): number => values.reduce((a, b) => a + b, 0) / values.length;
  return { frames: decoded.frames.length, psnrMean: mean(psnrs), psnrMin: Math.min(...psnrs), ssimMean: mean(ssims), matched };
}

/**
 * Frames that show the source frame of the frame before them (a repeat), steps back in the source (reordering) and
 * steps over source frames (skips), from the matched source indices of a source looping every `loopLength` frames.
 */
export function sequenceFaults(matched: readonly number[], loopLength: number): SequenceFaults {
  let repeats = 0;
  let backwards = 0;
  let skipped = 0;
  let advanced = 0;
  for (let i = 1; i < matched.length; i++) {
    const step = (matched[i]! - matched[i - 1]! + loopLength) % loopLength;
    if (step === 0) repeats++;
    else if (step > loopLength / 2) backwards++;
    else {
      skipped += step - 1;
      advanced += step;
    }
  }
  return { repeats, backwards, skipped, advanced };
}

export interface SequenceFaults {
  readonly repeats: number;
  readonly backwards: number;
  readonly skipped: number;
  /** Source frames the viewer's frames moved forward by in all. */
  readonly advanced: number;
}

/**
 * The frame rate the content shows, whatever the timestamps say: frames shown per second of the source's own time
 * (a source at `sourceRate` whose every second frame reaches the viewer shows sourceRate / 2).
 */
export function contentRate(frames: number, advanced: number, sourceRate: number): number {
  return advanced > 0 ? (sourceRate * (frames - 1)) / advanced : 0;
}

/** The timing of a run of frames, from their presentation (or arrival) times in seconds. */
export interface FrameTiming {
  readonly frames: number;
  /** Frames per second over the whole span. */
  readonly fps: number;
  /** Standard deviation of the intervals between frames, ms. */
  readonly jitterMs: number;
  /** The longest interval, ms. */
  readonly maxGapMs: number;
  /** Intervals shorter than a quarter of the median: frames bunched together (bursts) or at the same time. */
  readonly bunched: number;
  /** Times that go back. */
  readonly reordered: number;
}

export function frameTiming(times: readonly number[]): FrameTiming {
  if (times.length < 2) throw new Error(`need two frames to time, got ${times.length}`);
  const intervals = times.slice(1).map((t, i) => t - times[i]!);
  const sorted = [...intervals].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)]!;
  const mean = intervals.reduce((a, b) => a + b, 0) / intervals.length;
  const variance = intervals.reduce((sum, d) => sum + (d - mean) ** 2, 0) / intervals.length;
  const span = times[times.length - 1]! - times[0]!;
  return {
    frames: times.length,
    fps: span > 0 ? (times.length - 1) / span : 0,
    jitterMs: Math.sqrt(variance) * 1000,
    maxGapMs: sorted[sorted.length - 1]! * 1000,
    bunched: intervals.filter((d) => d >= 0 && d < median / 4).length,
    reordered: intervals.filter((d) => d < 0).length,
  };
}

/** Kilobits per second of `bytes` over `seconds`. */
export function kbps(bytes: number, seconds: number): number {
  return (bytes * 8) / 1000 / seconds;
}

/** What a case expects of an output; the floors below turn it into pass or fail. */
export interface Expectation {
  readonly width: number;
  readonly height: number;
  /** The frame rate the viewer should get. */
  readonly fps: number;
  /** Luma PSNR floor, dB, of every frame's mean (and the worst frame at most 3 dB below it). */
  readonly psnr: number;
  readonly ssim?: number;
  /** The configured bit rate, kbit/s, when the relay encodes. */
  readonly kbps?: number;
  /** Every source frame must reach the viewer (the output runs at the source's rate). */
  readonly everyFrame?: boolean;
  /**
   * 'even' (the default) checks the timestamps' rate and bars gaps and bursts: for timestamps the relay writes. 'rate'
   * checks the rate of the frames' content only: for times the camera or the machine's load set (MJPEG arrivals).
   */
  readonly timing?: 'even' | 'rate';
  /** The rate the camera really delivered meanwhile: the timestamps may follow it instead of `fps`. */
  readonly deliveredFps?: number;
  /** The longest gap allowed between frames, ms, when the source's own gaps are longer than the floor's. */
  readonly gapMs?: number;
  /** Bunched frames allowed beyond the floor's share (those the source sent bunched). */
  readonly bunched?: number;
}

/**
 * The expectation for a source whose delivery was measured during the capture (a camera on a loaded machine may send
 * fewer than its nominal frames, late or in bursts): the rate it really sent is accepted too, and its own gaps and
 * bursts are allowed.
 * On an idle machine this is the nominal expectation.
 */
export function asDelivered(expected: Expectation, source: FrameTiming): Expectation {
  return { ...expected, deliveredFps: source.fps, gapMs: source.maxGapMs + (2 * 1000) / expected.fps, bunched: source.bunched };
}

/**
 * The shared bars: bit rate within 30% of the configured, frame rate within 5%, no gap over 3 frame periods, at most 5%
 * of the frames bunched (under a quarter of the median interval after the one before).
 */
export const FLOORS = { kbpsLow: 0.7, kbpsHigh: 1.3, fpsTolerance: 0.05, gapPeriods: 3, worstFrameBelowMean: 3, bunchedShare: 0.05 } as const;

/** Everything in `measured` that misses the expectation, one line each (empty when all is well). */
export function floorFailures(measured: FrameTiming & PictureScore & SequenceFaults & { width: number; height: number; kbps: number; contentFps?: number }, expected: Expectation): string[] {
  const failures: string[] = [];
  const fixed = (value: number, digits = 1): string => value.toFixed(digits);
  if (measured.width !== expected.width || measured.height !== expected.height) {
    failures.push(`size ${measured.width}x${measured.height}, expected ${expected.width}x${expected.height}`);
  }
  if (measured.psnrMean < expected.psnr) failures.push(`PSNR ${fixed(measured.psnrMean)} dB below the floor of ${expected.psnr} dB`);
  if (measured.psnrMin < expected.psnr - FLOORS.worstFrameBelowMean) failures.push(`worst frame PSNR ${fixed(measured.psnrMin)} dB`);
  if (expected.ssim !== undefined && measured.ssimMean < expected.ssim) failures.push(`SSIM ${fixed(measured.ssimMean, 3)} below ${expected.ssim}`);
  if (expected.kbps !== undefined) {
    const ratio = measured.kbps / expected.kbps;
    if (ratio < FLOORS.kbpsLow || ratio > FLOORS.kbpsHigh) failures.push(`${fixed(measured.kbps)} kbit/s for ${expected.kbps} configured`);
  }
  const even = (expected.timing ?? 'even') === 'even';
  const off = (fps: number): boolean => Math.abs(fps / expected.fps - 1) > FLOORS.fpsTolerance;
  const delivered = expected.deliveredFps ?? expected.fps;
  if (even && off(measured.fps) && Math.abs(measured.fps / delivered - 1) > FLOORS.fpsTolerance) {
    failures.push(`${fixed(measured.fps, 2)} fps by the timestamps, expected ${fixed(expected.fps, 2)}${delivered !== expected.fps ? ` (the camera delivered ${fixed(delivered, 2)})` : ''}`);
  }
  if (measured.contentFps !== undefined && off(measured.contentFps)) {
    failures.push(`${fixed(measured.contentFps, 2)} fps of the source's frames, expected ${fixed(expected.fps, 2)}`);
  }
  const gapMs = Math.max((FLOORS.gapPeriods * 1000) / expected.fps, expected.gapMs ?? 0);
  if (even && measured.maxGapMs > gapMs) failures.push(`a gap of ${fixed(measured.maxGapMs, 0)} ms between frames`);
  if (measured.reordered > 0 || measured.backwards > 0) failures.push(`frames out of order: ${measured.reordered} times, ${measured.backwards} steps back in the source`);
  if (even && measured.bunched > measured.frames * FLOORS.bunchedShare + (expected.bunched ?? 0)) failures.push(`${measured.bunched} frames bunched together (bursts)`);
  if (measured.repeats > 0) failures.push(`${measured.repeats} frames repeat the source frame before them`);
  if (expected.everyFrame && measured.skipped > 0) failures.push(`${measured.skipped} source frames never reached the viewer`);
  return failures;
}
