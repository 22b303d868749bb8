import { randomBytes } from 'node:crypto';
import { audioFragment, FMP4_TIMESCALE, fragment, initSegment, type Fmp4AudioSample, type Fmp4Sample } from '../../media/fmp4.ts';
import { contiguousAudioRuns, MpegTsMuxer } from '../../media/mpegts.ts';
import type { AudioTrack, H264Unit, FrameUnit, H264Track } from '../../media/types.ts';
import { FrameTimeline, type TimedFrame } from './timeline.ts';
import { audioFrameMs } from '../core/audio-interleave.ts';
import type { AudioUnit } from '../../adapters/types.ts';

/** HLS in MPEG-TS segments, or LL-HLS in fMP4 (CMAF) segments made of parts. */
export type HlsContainer = 'ts' | 'fmp4';

export interface HlsPackagerOptions {
  readonly container: HlsContainer;
  /** Target segment duration, seconds: a segment ends at the first keyframe at or past it. */
  readonly segmentSeconds: number;
  /** Segments listed in the playlist. */
  readonly listSize: number;
  /** fMP4 only: parts end before they would pass this many seconds. */
  readonly partSeconds: number;
}

/** An fMP4 init segment: one per track (encoder run). */
export interface HlsInit {
  readonly name: string;
  readonly data: Buffer;
}

/** A partial segment (LL-HLS). */
export interface HlsPart {
  readonly name: string;
  readonly duration: number;
  readonly data: Buffer;
  /** Starts with a keyframe. */
  readonly independent: boolean;
  readonly createdAt: number;
}

/** A segment; `data` is set once it is complete. */
export interface HlsSegment {
  readonly sequence: number;
  readonly name: string;
  /** Discontinuities from the start of the run up to and including this segment. */
  readonly discontinuitySequence: number;
  /** The first segment of a new track (encoder restart). */
  readonly discontinuity: boolean;
  readonly init: HlsInit | undefined;
  readonly parts: HlsPart[];
  duration: number;
  /** Access units in the segment. */
  frames: number;
  data: Buffer | undefined;
  createdAt: number;
}

/** Segments kept past the playlist's window, for readers that fetched a playlist just before a segment left it. */
export const LATE_READER_SEGMENTS = 2;
/** A camera whose keyframes stop coming still gets its segments cut, at this many target durations. */
const MAX_SEGMENT_TARGETS = 4;
/** A keyframe this many frame intervals before the target duration still ends the segment. */
const KEYFRAME_SLACK_FRAMES = 1.5;
/** AAC frames at most in one PES packet (about 0.2 s at 48 kHz). */
const AUDIO_FRAMES_PER_PES = 10;

/**
 * Packages encoded frames into HLS segments (and LL-HLS parts) in memory, from the relay's own clock: segments start at
 * keyframes, names carry a random per-run prefix and a media sequence that never resets, so no name repeats across
 * relay or encoder restarts; a new track object (encoder restart) starts a discontinuity.
 */
export class HlsPackager {
  /** A prefix no other run of any relay uses: the start time and random bits. */
  readonly runId = `${Date.now().toString(36)}${randomBytes(4).toString('hex')}`;
  /** Complete segments, oldest first: the playlist's window plus a few for late readers. */
  readonly segments: HlsSegment[] = [];
  /** The segment being filled, once the first keyframe came. */
  open: HlsSegment | undefined;
  /** Bumped on every change a playlist shows; with `changedAt`, the playlist's validators. */
  version = 0;
  changedAt = Date.now();
  /** True when no earlier change happened in the same second as the last one (Last-Modified then identifies it). */
  changeIsOnlyOneInItsSecond = true;
  maxSegmentSeconds = 0;

  private readonly timeline: FrameTimeline;
  private ts = new MpegTsMuxer();
  /** The camera's AAC track, once it sent sound, and its frames waiting for the next picture. */
  private audioTrack: AudioTrack | undefined;
  /** fMP4: the video track and the sound its init segment describes; the sound of the part being filled. */
  private videoTrack: H264Track | undefined;
  private initAudio: AudioTrack | undefined;
  private partAudio: Fmp4AudioSample[] = [];
  private audioQueue: Array<{ unit: FrameUnit; time: number }> = [];
  private readonly listeners = new Set<() => void>();
  private init: HlsInit | undefined;
  private trackCount = 0;
  private nextSequence = 0;
  private discontinuities = 0;
  private fragmentSequence = 1;
  private pending: TimedFrame | undefined;
  private partSamples: Fmp4Sample[] = [];
  private segmentChunks: Buffer[] = [];
  private segmentStartDts = 0;
  /** The track's first decode time, and the next multiple of the target after it where a keyframe is due (s). */
  private trackStartDts = 0;
  private nextBoundary = 0;
  private segmentHasMedia = false;
  private partDurationTicks = 0;

  constructor(
    readonly options: HlsPackagerOptions,
    /** The URL path segments and parts are served under, ending in '/': `test/` for /test.m3u8. */
    readonly prefix: string,
  ) {
    // A gap longer than a part (LL-HLS) or a whole segment (an outage) is closed up: one frame lasting the outage would
    // raise EXT-X-TARGETDURATION for good (it may never shrink), and native players hold back three targets from the edge.
    this.timeline = new FrameTimeline((options.container === 'fmp4' ? options.partSeconds : options.segmentSeconds) * 1000);
  }

  /** Calls `listener` after each change (a new part or segment). */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Takes the next frame of the encoder; frames before the first keyframe of a track are skipped. */
  push(frame: H264Unit): void {
    const timed = this.timeline.place(frame);
    if (!timed) return;
    if (timed.newTrack) {
      this.startTrack(timed.frame.track);
      this.trackStartDts = timed.dts;
    }
    if (this.pending && !timed.newTrack) this.commit(this.pending, timed.dts - this.pending.dts);
    this.pending = timed;
  }

  /**
   * Takes the next AAC frame of the camera (already in time order with the pictures, see AudioInterleaver); it goes
   * into the segment (or part) with the next picture. Sound before the first picture is left out.
   */
  pushAudio(unit: FrameUnit): void {
    if (!this.announceAudio(unit.track)) return;
    const time = this.timeline.toTimeline(unit.pts);
    if (time === undefined || !this.open) return;
    this.audioQueue.push({ unit, time });
  }

  /**
   * Makes the camera's sound part of the program from the next segment opened (the first one, when it is known before
   * the first picture). The sound itself waits in the AudioInterleaver for the picture, so the track is announced as
   * soon as it is known: else the first segment would be silent and the second a discontinuity. False for sound the
   * packager does not carry (only AAC).
   */
  announceAudio(track: FrameUnit['track']): boolean {
    if (track.kind !== 'audio' || track.codec !== 'aac' || !track.config) return false;
    this.audioTrack = track;
    return true;
  }

  /** The track being packaged, its init segment (fMP4), for the playlist's EXT-X-MAP. */
  get currentInit(): HlsInit | undefined {
    return this.init;
  }

  /** Complete segments listed in the playlist (the newest `listSize`). */
  get listed(): HlsSegment[] {
    return this.segments.slice(-this.options.listSize);
  }

  private startTrack(track: H264Track): void {
    if (this.pending) this.commit(this.pending, this.timeline.typicalDuration);
    this.pending = undefined;
    const restart = this.segments.length > 0 || this.segmentHasMedia;
    if (this.open && this.segmentHasMedia) this.closeSegment();
    else if (this.open) {
      // An open segment that never got a frame is dropped and its number reused: nobody has seen it.
      this.nextSequence = this.open.sequence;
      if (this.open.discontinuity) this.discontinuities--;
    }
    this.videoTrack = track;
    this.newInit();
    if (restart) this.discontinuities++;
    if (this.audioTrack && this.ts.audio !== this.audioTrack) this.ts = new MpegTsMuxer(this.audioTrack);
    this.openSegment(restart);
  }

  /** fMP4: an init segment for the video track and the sound known now. */
  private newInit(): void {
    this.trackCount++;
    if (this.options.container !== 'fmp4' || !this.videoTrack) return;
    this.initAudio = this.audioTrack;
    this.init = { name: `${this.prefix}${this.runId}-init${this.trackCount}.mp4`, data: initSegment(this.videoTrack, this.audioTrack) };
  }

  private openSegment(discontinuity: boolean): void {
    // Sound that starts (or changes) mid-track changes the program: players take that only at a discontinuity.
    if (!discontinuity && this.options.container === 'ts' && this.audioTrack && this.ts.audio !== this.audioTrack) {
      this.ts = new MpegTsMuxer(this.audioTrack);
      this.discontinuities++;
      discontinuity = true;
    } else if (!discontinuity && this.options.container === 'fmp4' && this.audioTrack !== this.initAudio) {
      this.newInit();
      this.discontinuities++;
      discontinuity = true;
    }
    const sequence = this.nextSequence++;
    const extension = this.options.container === 'ts' ? 'ts' : 'm4s';
    this.open = {
      sequence,
      name: `${this.prefix}${this.runId}-${sequence}.${extension}`,
      discontinuitySequence: this.discontinuities,
      discontinuity,
      init: this.init,
      parts: [],
      duration: 0,
      frames: 0,
      data: undefined,
      createdAt: Date.now(),
    };
    this.segmentChunks = this.options.container === 'ts' ? [this.ts.tables()] : [];
    this.segmentHasMedia = false;
    this.partSamples = [];
    this.partAudio = [];
    this.partDurationTicks = 0;
  }

  /** Adds one frame whose duration is now known, cutting parts and segments before it where due. */
  private commit(timed: TimedFrame, durationMs: number): void {
    const { frame } = timed;
    const target = this.options.segmentSeconds;
    const elapsed = (timed.dts - this.segmentStartDts) / 1000;
    const sinceTrackStart = (timed.dts - this.trackStartDts) / 1000;
    // The encoder forces a keyframe on the first frame at or past each multiple of the target since its start, so a
    // keyframe a frame or two late (dropped or bunched frames) must not make the next segment miss its boundary: cut
    // on that grid, or (a camera's own keyframes) once a target has passed, less a frame and a half of slack.
    const slack = Math.min(target / 2, (this.timeline.typicalDuration * KEYFRAME_SLACK_FRAMES) / 1000);
    const onBoundary = sinceTrackStart >= this.nextBoundary - slack || elapsed >= target - slack;
    const due = (frame.keyframe && onBoundary) || elapsed >= target * MAX_SEGMENT_TARGETS;
    if (this.segmentHasMedia && due) {
      // The sound that ends before the new segment's first picture stays in the segment before.
      this.flushAudio(timed.dts);
      this.closeSegment();
      this.openSegment(false);
    }
    if (!this.segmentHasMedia) {
      this.segmentStartDts = timed.dts;
      this.segmentHasMedia = true;
      this.nextBoundary = (Math.floor((sinceTrackStart + slack) / target) + 1) * target;
    }
    const current = this.open!;
    current.duration = (timed.dts + durationMs - this.segmentStartDts) / 1000;
    current.frames++;
    if (this.options.container === 'ts') {
      this.flushAudio();
      this.segmentChunks.push(this.ts.accessUnit(frame, timed.pts, timed.dts));
      return;
    }
    const duration = Math.round(durationMs * (FMP4_TIMESCALE / 1000));
    if (this.partSamples.length > 0 && this.partDurationTicks + duration > this.options.partSeconds * FMP4_TIMESCALE) this.closePart();
    this.flushAudio();
    this.partSamples.push({
      nalus: frame.data,
      dts: Math.round(timed.dts * (FMP4_TIMESCALE / 1000)),
      compositionOffset: Math.round((timed.pts - timed.dts) * (FMP4_TIMESCALE / 1000)),
      duration,
      keyframe: frame.keyframe,
    });
    this.partDurationTicks += duration;
  }

  /** The queued sound as PES packets of back-to-back frames, each run at its first frame's time. */
  private flushAudio(endingBy = Infinity): void {
    let count = 0;
    while (count < this.audioQueue.length && this.audioQueue[count]!.time + audioFrameMs(this.audioQueue[count]!.unit as AudioUnit) <= endingBy) count++;
    if (count === 0) return;
    if (this.options.container === 'fmp4') {
      const rate = this.initAudio?.sampleRate ?? 0;
      for (const { unit, time } of this.audioQueue.splice(0, count)) {
        if (unit.track === this.initAudio) this.partAudio.push({ data: unit.data, dts: Math.round((time * rate) / 1000), duration: 1024 });
      }
      return;
    }
    const out = this.audioQueue.splice(0, count).filter(({ unit }) => unit.track === this.ts.audio);
    const times = new Map(out.map(({ unit, time }) => [unit, time]));
    for (const run of contiguousAudioRuns(out.map(({ unit }) => unit), AUDIO_FRAMES_PER_PES)) {
      this.segmentChunks.push(this.ts.audioFrames(run, times.get(run[0]!)!));
    }
  }

  private closePart(): void {
    const open = this.open!;
    if (this.partSamples.length === 0) return;
    open.parts.push({
      name: `${this.prefix}${this.runId}-${open.sequence}.${open.parts.length}.m4s`,
      duration: this.partDurationTicks / FMP4_TIMESCALE,
      data: this.partAudio.length === 0 ? fragment(this.fragmentSequence++, this.partSamples)
        : Buffer.concat([fragment(this.fragmentSequence++, this.partSamples), audioFragment(this.fragmentSequence++, this.partAudio)]),
      independent: this.partSamples[0]!.keyframe,
      createdAt: Date.now(),
    });
    this.partSamples = [];
    this.partAudio = [];
    this.partDurationTicks = 0;
    this.changed();
  }

  private closeSegment(): void {
    const open = this.open!;
    if (this.options.container === 'fmp4') {
      this.closePart();
      open.duration = open.parts.reduce((sum, part) => sum + part.duration, 0);
      open.data = Buffer.concat(open.parts.map((part) => part.data));
    } else open.data = Buffer.concat(this.segmentChunks);
    this.segmentChunks = [];
    if (open.data.length === 0 || open.duration <= 0) return;
    open.createdAt = Date.now();
    this.segments.push(open);
    this.maxSegmentSeconds = Math.max(this.maxSegmentSeconds, open.duration);
    while (this.segments.length > this.options.listSize + LATE_READER_SEGMENTS) this.segments.shift();
    this.changed();
  }

  private changed(): void {
    const now = Date.now();
    this.changeIsOnlyOneInItsSecond = Math.floor(now / 1000) !== Math.floor(this.changedAt / 1000);
    this.changedAt = now;
    this.version++;
    for (const listener of this.listeners) listener();
  }
}
