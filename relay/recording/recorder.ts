import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { EventSink } from '../../lib/event-bus.ts';
import type { Logger } from '../../lib/log.ts';
import type { AudioUnit } from '../../adapters/types.ts';
import type { AudioTrack, H264Unit, H264Source, H264Track } from '../../media/types.ts';
import { segmentRelativePath } from './names.ts';
import type { Segment, SegmentIndex } from './segment-index.ts';
import { SegmentWriter } from './segment-writer.ts';

/** No frame for this long, or a jump this large in decode time, is an outage: the segment ends and a gap follows. */
export const OUTAGE_MS = 5000;
/** No frame for this long (or three frame intervals of a slow camera) while recording is a stall: reported, and counted as lost. */
const STALL_MIN_MS = 1000;
/** How often the open segment's size and end are refreshed and its file checked, ms. */
const TICK_MS = 1000;
/** After a write error, the next segment is tried after this long, doubling up to the maximum. */
const RETRY_MIN_MS = 1000;
const RETRY_MAX_MS = 30_000;
/** Audio frames waiting for the picture of their time at most (about 4 s of AAC at 48 kHz); older ones are dropped. */
const MAX_HELD_AUDIO = 200;

/** The camera's sound as AAC frames on the camera's timeline (relay/encoders/aac-audio.ts). */
export interface RecordedAudio {
  subscribe(listener: (unit: AudioUnit) => void): () => void;
}

/** What /stat.json shows of one camera's recorder. */
export interface RecorderState {
  /** `stalled`: a segment is open but no frame came for a while (the time is counted in lostSeconds when it ends). */
  state: 'waiting' | 'recording' | 'stalled' | 'error' | 'stopped';
  /** Seconds of video missing from the recording since start: stalls, outages and write failures between frames. */
  lostSeconds: number;
  /** Stalls seen since start. */
  stalls: number;
  currentSegment: string | null;
  segmentsWritten: number;
  writeErrors: number;
  lastError: { message: string; at: string } | null;
}

export interface RecorderOptions {
  readonly camera: string;
  readonly segmentSeconds: number;
  readonly source: H264Source;
  /** The camera's sound, recorded beside the picture while the camera sends it. */
  readonly audio?: RecordedAudio;
  readonly index: SegmentIndex;
  readonly log: Logger;
  /** Told when recording stops on an error and when it resumes (webhooks, OnEventExec). */
  readonly events?: EventSink;
  /** Called before each new segment opens, so retention can make room first. */
  readonly beforeSegment?: () => void;
  /** The wall clock, replaceable in tests of clock jumps. */
  readonly now?: () => number;
}

interface OpenSegment {
  readonly entry: Segment;
  readonly writer: SegmentWriter;
  readonly track: H264Track;
  readonly firstDts: number;
  lastDts: number;
  lastFrameAt: number;
  /** Set once the file is seen on disk (it is opened asynchronously); from then on its absence means someone deleted it. */
  seenOnDisk: boolean;
  /** Set once its loss (a write error, the file deleted) has been counted, so that it is counted once. */
  lost: boolean;
}

/**
 * Records one camera's encoded video as segment files: one consumer of the encoder like any viewer. Segments are cut
 * at the first keyframe after RecordSegmentSeconds of media, and after an outage, a new track (encoder restart) or a
 * write failure; each is named by its UTC start, never reusing a name even when the clock steps back.
 */
export class CameraRecorder {
  readonly status: RecorderState = { state: 'waiting', lostSeconds: 0, stalls: 0, currentSegment: null, segmentsWritten: 0, writeErrors: 0, lastError: null };
  /** Monotonic time of the last frame written (a wall-clock step must not count as lost video), ms. */
  private lastWrittenMono: number | undefined;
  /** The camera's usual frame interval, from the frames written, ms. */
  private frameIntervalMs = 100;
  private current: OpenSegment | undefined;
  private retryAt = 0;
  private retryDelay = RETRY_MIN_MS;
  private release: (() => void) | undefined;
  private unsubscribe: (() => void) | undefined;
  private unsubscribeAudio: (() => void) | undefined;
  /** Sound that came before the picture of its time (the encoder is slower than the camera's audio). */
  private heldAudio: AudioUnit[] = [];
  private lastAudio: { track: AudioTrack; at: number } | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly closing = new Set<Promise<unknown>>();
  private readonly now: () => number;

  constructor(private readonly options: RecorderOptions) {
    this.now = options.now ?? Date.now;
  }

  start(): void {
    this.release = this.options.source.acquire();
    this.unsubscribe = this.options.source.subscribe((frame) => this.onFrame(frame));
    this.unsubscribeAudio = this.options.audio?.subscribe((unit) => this.onAudio(unit));
    this.timer = setInterval(() => this.tick(), TICK_MS);
    this.timer.unref();
  }

  /** Stops recording: the open segment is finished and indexed. Safe to call twice. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.unsubscribeAudio?.();
    this.unsubscribeAudio = undefined;
    this.heldAudio = [];
    this.release?.();
    this.release = undefined;
    this.endSegment('stopping');
    this.status.state = 'stopped';
    await Promise.all([...this.closing]);
  }

  /** The segment being written, which retention must never delete. */
  get openSegment(): Segment | undefined {
    return this.current?.entry;
  }

  private onAudio(unit: AudioUnit): void {
    this.lastAudio = { track: unit.track, at: this.now() };
    this.heldAudio.push(unit);
    if (this.heldAudio.length > MAX_HELD_AUDIO) this.heldAudio.shift();
  }

  /**
   * Before the picture at `dts`: the sound that starts before it goes into the open segment, with the pictures of its
   * span; at a cut, that is the segment ending, so the next one starts with its picture and sound together.
   */
  private writeAudioBefore(dts: number): void {
    let count = 0;
    while (count < this.heldAudio.length && this.heldAudio[count]!.dts < dts) count++;
    if (count === 0) return;
    for (const unit of this.heldAudio.splice(0, count)) this.current?.writer.writeAudio(unit);
  }

  /** The camera's audio track for a segment opening now: none when it sent no sound for an outage's length. */
  private audioTrack(): AudioTrack | undefined {
    return this.lastAudio && this.now() - this.lastAudio.at <= OUTAGE_MS ? this.lastAudio.track : undefined;
  }

  private onFrame(frame: H264Unit): void {
    this.writeAudioBefore(frame.dts);
    const current = this.current;
    if (current) {
      if (frame.track !== current.track) this.endSegment('the encoder restarted');
      else if (frame.dts < current.lastDts || frame.dts - current.lastDts > OUTAGE_MS) this.endSegment('a gap in the video');
      else if (frame.keyframe && frame.dts - current.firstDts >= this.options.segmentSeconds * 1000) this.endSegment(undefined);
    }
    if (!this.current) {
      if (!frame.keyframe || this.now() < this.retryAt) return;
      this.openSegment_(frame);
    }
    const open = this.current;
    if (open && open.writer.write(frame)) {
      this.countGap(frame.dts - open.lastDts);
      open.lastDts = frame.dts;
      open.lastFrameAt = this.now();
    }
  }

  /** Adds the time since the last written frame to lostSeconds when it was a stall, and ends the stall state. */
  private countGap(dtsStep: number): void {
    const mono = performance.now();
    const since = this.lastWrittenMono === undefined ? 0 : mono - this.lastWrittenMono;
    this.lastWrittenMono = mono;
    if (dtsStep > 0 && dtsStep < STALL_MIN_MS) this.frameIntervalMs = this.frameIntervalMs * 0.9 + dtsStep * 0.1;
    if (since > this.stallMs()) {
      // What a frame interval would have covered anyway is not lost.
      this.status.lostSeconds = Math.round((this.status.lostSeconds + (since - this.frameIntervalMs) / 1000) * 1000) / 1000;
      this.options.log.warn(`${(since / 1000).toFixed(1)} s without video in the recording (${this.status.lostSeconds} s lost since start)`);
    }
    if (this.status.state === 'stalled') this.status.state = 'recording';
  }

  private stallMs(): number {
    return Math.max(STALL_MIN_MS, 3 * this.frameIntervalMs);
  }

  private openSegment_(frame: H264Unit): void {
    const { camera, index, log } = this.options;
    this.options.beforeSegment?.();
    let start = this.now();
    // Never reuse a name: after the clock steps back a second recording of the "same" millisecond gets the next one.
    while (index.has(camera, start) || existsSync(join(index.root, segmentRelativePath(camera, start)))) start++;
    const path = segmentRelativePath(camera, start);
    try {
      mkdirSync(dirname(join(index.root, path)), { recursive: true });
    } catch (error) {
      this.fail(`cannot create ${dirname(path)}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
      return;
    }
    const writer = new SegmentWriter(join(index.root, path), this.audioTrack());
    const entry: Segment = { camera, start, end: start, bytes: 0, path, open: true };
    index.add(entry);
    const open: OpenSegment = { entry, writer, track: frame.track, firstDts: frame.dts, lastDts: frame.dts, lastFrameAt: this.now(), seenOnDisk: false, lost: false };
    this.current = open;
    if (this.status.state === 'error') this.options.events?.emit('recording.resumed', camera, `recording again into ${path}`);
    this.status.state = 'recording';
    this.status.currentSegment = path;
    void writer.ended.then(({ failed }) => {
      if (!failed) return;
      if (open.seenOnDisk && fileSize(join(index.root, path)) === undefined) this.lose(open, vanished(path));
      else this.lose(open, `writing ${path} failed: ${failed}`);
    });
    log.info(`recording ${path}`);
  }

  /** Finishes the open segment: its end is the media time written, its size read once the file is closed. */
  private endSegment(reason: string | undefined): void {
    const open = this.current;
    if (!open) return;
    this.current = undefined;
    this.status.currentSegment = null;
    if (this.status.state === 'recording' || this.status.state === 'stalled') this.status.state = 'waiting';
    const { entry, writer } = open;
    entry.end = entry.start + frameSpan(open);
    if (reason) this.options.log.info(`segment ${entry.path} ends early: ${reason}`);
    const closed = writer.close().then(() => {
      entry.bytes = fileSize(join(this.options.index.root, entry.path)) ?? entry.bytes;
      entry.open = false;
      this.status.segmentsWritten++;
      this.retryDelay = RETRY_MIN_MS;
    });
    this.closing.add(closed);
    void closed.finally(() => this.closing.delete(closed));
  }

  /** Ends a segment that cannot go on; one whose file is gone also leaves the index. Counted once per segment. */
  private lose(open: OpenSegment, message: string): void {
    if (open.lost) return;
    open.lost = true;
    if (this.current === open) this.endSegment(undefined);
    if (fileSize(join(this.options.index.root, open.entry.path)) === undefined) this.options.index.remove(open.entry);
    this.fail(message);
  }

  private fail(message: string): void {
    this.status.writeErrors++;
    if (this.status.state !== 'error') this.options.events?.emit('recording.stopped', this.options.camera, message);
    this.status.state = 'error';
    this.status.lastError = { message, at: new Date().toISOString() };
    this.retryAt = this.now() + this.retryDelay;
    this.options.log.error(`${message}; retrying in ${Math.round(this.retryDelay / 1000)} s`);
    this.retryDelay = Math.min(RETRY_MAX_MS, this.retryDelay * 2);
  }

  /** Keeps the open segment's size and end current, ends it on an outage, and notices a file deleted under it. */
  private tick(): void {
    const open = this.current;
    if (!open) return;
    if (this.now() - open.lastFrameAt > OUTAGE_MS) {
      this.endSegment('no video for 5 s');
      return;
    }
    if (this.status.state === 'recording' && this.lastWrittenMono !== undefined && performance.now() - this.lastWrittenMono > this.stallMs()) {
      this.status.state = 'stalled';
      this.status.stalls++;
    }
    const bytes = fileSize(join(this.options.index.root, open.entry.path));
    if (bytes === undefined && !open.seenOnDisk) return;
    open.seenOnDisk = true;
    if (bytes === undefined) {
      this.lose(open, vanished(open.entry.path));
      return;
    }
    open.entry.bytes = bytes;
    open.entry.end = open.entry.start + frameSpan(open);
  }
}

/** Media time a segment covers: first to last decode time plus one frame interval (estimated as 1/25 s at most). */
function frameSpan(open: OpenSegment): number {
  const written = open.lastDts - open.firstDts;
  const frames = Math.max(1, open.writer.framesWritten - 1);
  return written + Math.min(40, written / frames || 40);
}

function vanished(path: string): string {
  return `${path} disappeared while being written (recording directory removed?)`;
}

function fileSize(path: string): number | undefined {
  try {
    return statSync(path).size;
  } catch {
    return undefined;
  }
}
