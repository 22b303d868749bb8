import type { AudioUnit } from '../../adapters/types.ts';
import { audioFragment, FMP4_TIMESCALE, fragment, initSegment, type Fmp4AudioSample, type Fmp4Sample } from '../../media/fmp4.ts';
import type { AudioTrack, H264Unit, H264Track } from '../../media/types.ts';

/** A fragment holds at most this much media (it is cut earlier at each keyframe), so a crash loses less than that. */
export const FRAGMENT_MS = 500;
/** A frame that has waited this long is written even though the next one, which fixes its duration, has not come. */
export const MAX_UNWRITTEN_MS = 1000;
/** The duration a fragment's last frame gets when the next frame is not known yet: the last interval, at most this. */
const MAX_GUESSED_FRAME_MS = 1000;
const DEFAULT_FRAME_MS = 40;
const TICKS_PER_MS = FMP4_TIMESCALE / 1000;
/** Samples in one AAC frame, the duration of a frame whose successor is not in the same fragment. */
const AAC_FRAME_SAMPLES = 1024;

/** Whether an audio frame's track is the one a file was started with (the same codec and AudioSpecificConfig). */
export function sameAudioTrack(a: AudioTrack, b: AudioTrack): boolean {
  return a === b || (a.codec === b.codec && a.sampleRate === b.sampleRate && a.channels === b.channels && (a.config?.equals(b.config ?? Buffer.alloc(0)) ?? !b.config));
}

/**
 * Turns one track's H.264 access units into the bytes of one fragmented MP4 file: the init segment first, then a
 * fragment at every keyframe and every FRAGMENT_MS of media. Times in the file start at the first frame's decode time.
 * A frame is held until the next one gives its duration; `flush` writes it with a guessed one (a stall, the end).
 * With an audio track, the sound given before each picture goes out as an audio fragment right after the video
 * fragment of the span it starts in, so a file cut anywhere holds both tracks for the same time.
 */
export class Fmp4Fragmenter {
  private pending: H264Unit[] = [];
  /** When the oldest pending frame came, on the caller's clock. */
  private pendingSince = 0;
  private sequence = 1;
  private firstDts: number | undefined;
  private lastIntervalMs = DEFAULT_FRAME_MS;
  private pendingAudio: AudioUnit[] = [];

  constructor(readonly track: H264Track, readonly audio?: AudioTrack) {}

  /** Frames not written yet. */
  get pendingFrames(): number {
    return this.pending.length;
  }

  /** How long the oldest unwritten frame has waited at `now` (0 when none waits). */
  waitedMs(now: number): number {
    return this.pending.length === 0 ? 0 : now - this.pendingSince;
  }

  /** Adds one frame (decode times never going back); returns the bytes now due: the init segment, a finished fragment. */
  push(frame: H264Unit, now: number): Buffer[] {
    const out: Buffer[] = [];
    if (this.firstDts === undefined) {
      this.firstDts = frame.dts;
      out.push(initSegment(this.track, this.audio));
    }
    const last = this.pending.at(-1);
    if (last && frame.dts > last.dts) this.lastIntervalMs = Math.min(MAX_GUESSED_FRAME_MS, frame.dts - last.dts);
    const first = this.pending[0];
    if (first && (frame.keyframe || frame.dts - first.dts >= FRAGMENT_MS)) out.push(this.cut(frame.dts));
    if (this.pending.length === 0) this.pendingSince = now;
    this.pending.push(frame);
    return out;
  }

  /**
   * Adds one audio frame of the file's audio track, to go out with the pictures of its span: give it before the
   * first picture at or after its time. Sound from before the file's first picture, or of another track, is dropped.
   */
  pushAudio(unit: AudioUnit): boolean {
    if (!this.audio || this.firstDts === undefined || unit.dts < this.firstDts || !sameAudioTrack(unit.track, this.audio)) return false;
    const last = this.pendingAudio.at(-1);
    if (last && unit.dts <= last.dts) return false;
    this.pendingAudio.push(unit);
    return true;
  }

  /** The pending frames as one fragment, the last lasting one usual frame interval; undefined when none is pending. */
  flush(): Buffer | undefined {
    return this.pending.length === 0 ? this.cutAudio() : this.cut(undefined);
  }

  private cut(nextDts: number | undefined): Buffer {
    const video = this.cutVideo(nextDts);
    const audio = this.cutAudio();
    return audio ? Buffer.concat([video, audio]) : video;
  }

  /** The pending sound as one audio fragment in the track's timescale (its sampling rate); a gap between frames stays. */
  private cutAudio(): Buffer | undefined {
    const units = this.pendingAudio;
    if (units.length === 0 || !this.audio) return undefined;
    this.pendingAudio = [];
    const rate = this.audio.sampleRate;
    const at = (ms: number): number => Math.round(((ms - this.firstDts!) * rate) / 1000);
    const samples = units.map((unit, i): Fmp4AudioSample => {
      const next = units[i + 1];
      return { data: unit.data, dts: at(unit.dts), duration: next ? Math.max(AAC_FRAME_SAMPLES, at(next.dts) - at(unit.dts)) : AAC_FRAME_SAMPLES };
    });
    return audioFragment(this.sequence++, samples);
  }

  private cutVideo(nextDts: number | undefined): Buffer {
    const frames = this.pending;
    this.pending = [];
    const samples = frames.map((frame, i): Fmp4Sample => {
      const dts = this.ticks(frame.dts);
      const end = frames[i + 1]?.dts ?? nextDts ?? frame.dts + this.lastIntervalMs;
      return {
        nalus: frame.data,
        dts,
        compositionOffset: Math.round((frame.pts - frame.dts) * TICKS_PER_MS),
        duration: Math.max(0, this.ticks(end) - dts),
        keyframe: frame.keyframe,
      };
    });
    return fragment(this.sequence++, samples);
  }

  /** Ticks from the first frame, rounded from absolute times so that rounding never accumulates. */
  private ticks(ms: number): number {
    return Math.round((ms - this.firstDts!) * TICKS_PER_MS);
  }
}
