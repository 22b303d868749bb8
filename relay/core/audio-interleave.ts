import { performance } from 'node:perf_hooks';
import type { AudioUnit } from '../../adapters/types.ts';

/** The duration of one audio frame: 1024 samples for AAC (the relay's only packaged audio), else 20 ms. */
export function audioFrameMs(unit: AudioUnit): number {
  return unit.track.codec === 'aac' ? (1024 * 1000) / unit.track.sampleRate : 20;
}

/** With no picture for this long, sound goes out alone: a camera whose video stops keeps its sound. */
const VIDEO_SILENT_MS = 1_000;
/** Frames held at most while waiting for the picture (about 4 s of AAC at 48 kHz): the rest go out as they are. */
const MAX_HELD = 200;

/**
 * Puts a camera's sound between its encoded picture by time. The encoder's video comes out later than the camera's
 * audio (encoding takes time), so audio frames wait here until a video frame at or after their time has gone out;
 * a container then reads both tracks in time order, as players and muxers expect.
 */
export class AudioInterleaver {
  private held: AudioUnit[] = [];

  /** `lastVideoAt`: performance.now() of the last picture written, for an interleaver made after pictures went out. */
  constructor(private readonly emit: (unit: AudioUnit) => void, private lastVideoAt = -Infinity) {}

  /**
   * Before writing a video frame at camera time `dts`: sends the audio that ends by that time. A frame that spans the
   * picture's time goes after it, so sound starting at a keyframe (where a viewer or a segment starts) is never late.
   */
  video(dts: number): void {
    this.lastVideoAt = performance.now();
    let count = 0;
    while (count < this.held.length && this.held[count]!.dts + audioFrameMs(this.held[count]!) <= dts) count++;
    if (count > 0) this.flush(count);
  }

  audio(unit: AudioUnit): void {
    this.held.push(unit);
    if (this.held.length > MAX_HELD) this.flush(this.held.length - MAX_HELD);
    // Before the first picture the sound waits (the encoder is starting): the picture's first time decides where it begins.
    if (this.lastVideoAt > -Infinity && performance.now() - this.lastVideoAt > VIDEO_SILENT_MS) this.flush(this.held.length);
  }

  /** Forgets held frames (a new start). */
  clear(): void {
    this.held = [];
  }

  private flush(count: number): void {
    const out = this.held.splice(0, count);
    for (const unit of out) this.emit(unit);
  }
}
