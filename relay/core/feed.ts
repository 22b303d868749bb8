import { DEFAULT_BACKOFF } from '../../lib/backoff.ts';
import { AdapterError } from '../../adapters/errors.ts';
import { ProtocolError } from '../../media/errors.ts';
import type { AdapterSink, AudioUnit, CameraAdapter } from '../../adapters/types.ts';
import { isH264Unit, isJpegUnit, unitBytes, type AudioTrack, type H264Listener, type H264Track, type H264Unit, type VideoUnit } from '../../media/types.ts';
import { hasPlausibleNalUnits } from '../../media/h264/units.ts';
import { isPlausibleJpeg } from '../../media/jpeg/splitter.ts';
import { isPlausibleVp8Frame } from '../../media/rtp/vp8-depacketizer.ts';
import type { CameraConfig } from '../../conf/types.ts';
import type { Logger } from '../../lib/log.ts';
import type { EventSink } from '../../lib/event-bus.ts';
import { nextValue } from './next-value.ts';
import { Supervisor, type SupervisedState } from './supervisor.ts';
import { FrameIntervalMeter, InputRateGate, SourceTimeline } from './timeline.ts';
import { Hub } from './hub.ts';
import type PQueue from 'p-queue';

/** Receives every frame a Feed keeps. */
export type FrameListener = (frame: VideoUnit) => void;

/** Counters a Feed keeps for /stat.html and /metrics. */
export interface FeedCounters {
  framesIn: number;
  framesDropped: number;
  /** Frames that cannot be images (too small, no SOI/EOI, no start code), dropped before any queue. */
  framesInvalid: number;
  bytesIn: number;
  /** Frames kept that `VideoCodec copy` hands on as they are (H.264 with a readable SPS), and their bytes. */
  copyableFramesIn: number;
  copyableBytesIn: number;
  lastFrameAt: number | undefined;
  /** Audio frames kept, and those dropped because their time went back (a re-based jump is kept and counted apart). */
  audioFramesIn: number;
  audioFramesDropped: number;
  audioRebased: number;
  audioBytesIn: number;
  lastAudioAt: number | undefined;
}

/** Receives every audio frame a Feed keeps. */
export type AudioListener = (unit: AudioUnit) => void;

export interface FeedOptions {
  readonly camera: CameraConfig;
  readonly createAdapter: () => CameraAdapter;
  readonly startQueue: PQueue;
  readonly log: Logger;
  /** Told of the camera going live, down, failed and back (webhooks, OnEventExec). */
  readonly events?: EventSink;
  /** An outage this long is reported camera.failed. */
  readonly failedAfterMs?: number;
}

/**
 * One per camera: owns the adapter's lifecycle through a Supervisor, a no-frames watchdog, input frame-rate limiting,
 * on-demand start and linger, and the last keyframe-onward group of frames for instant start.
 */
export class Feed {
  readonly camera: CameraConfig;
  readonly counters: FeedCounters = {
    framesIn: 0, framesDropped: 0, framesInvalid: 0, bytesIn: 0, copyableFramesIn: 0, copyableBytesIn: 0, lastFrameAt: undefined,
    audioFramesIn: 0, audioFramesDropped: 0, audioRebased: 0, audioBytesIn: 0, lastAudioAt: undefined,
  };
  readonly kind: string;
  private readonly supervisor: Supervisor;
  /** The camera's frames to its consumers, the group kept for instant start, and who holds the camera. */
  private readonly hub: Hub<VideoUnit>;
  /** The camera's audio frames, on the same timeline; holding is the video hub's (audio alone never starts a camera). */
  private readonly audio: Hub<AudioUnit>;
  private lingerTimer: NodeJS.Timeout | undefined;
  /** InputFrameRate: the time from which the next frame is due; frames earlier than that (less slack) are dropped. */
  private readonly inputRate = new InputRateGate();
  private readonly intervals = new FrameIntervalMeter();
  private readonly timeline = new SourceTimeline();
  private closed = false;
  /** The track of the newest frame `VideoCodec copy` could hand on, and of the newest one it could not. */
  private copyable: H264Track | undefined;
  private uncopyable: VideoUnit['track'] | undefined;

  constructor(private readonly options: FeedOptions) {
    this.camera = options.camera;
    this.kind = options.createAdapter().kind;
    this.hub = new Hub<VideoUnit>({
      keyframe: (frame) => frame.keyframe,
      size: unitBytes,
      onSubscriberError: (error) => options.log.error(`frame listener failed and was removed: ${error.message}`),
      onAcquire: () => this.held(),
      onLast: () => this.released(),
    });
    this.audio = new Hub<AudioUnit>({
      keyframe: () => true,
      size: (unit) => unit.data.length,
      onSubscriberError: (error) => options.log.error(`audio listener failed and was removed: ${error.message}`),
    });
    this.supervisor = new Supervisor({
      name: this.camera.name,
      startQueue: options.startQueue,
      log: options.log,
      // A fresh adapter for every run: no state of a failed run (parsers, counters, "connected") leaks into the next.
      task: (signal, live, waiting) => this.runAdapter(options.createAdapter(), signal, live, waiting),
      describeError: describeAdapterError,
      backoff: { ...DEFAULT_BACKOFF, maxMs: this.camera.retryMaxDelayMs, resetAfterMs: this.camera.retryResetAfterMs },
      onChange: (change, message) => options.events?.emit(`camera.${change}`, this.camera.name, message),
      failedAfterMs: options.failedAfterMs,
    });
  }

  get state(): SupervisedState {
    if (this.supervisor.state === 'stopped' && this.camera.onDemand && !this.closed) return 'idle';
    return this.supervisor.state;
  }

  get status() {
    const { lastError, liveSince, nextAttemptAt, restarts } = this.supervisor;
    return { state: this.state, lastError, liveSince, nextAttemptAt, restarts };
  }

  /** The newest frame, for JPEG snapshots and MJPEG viewers' first frame. */
  get latestFrame(): VideoUnit | undefined {
    const group = this.hub.groupOfPictures;
    return group[group.length - 1];
  }

  /**
   * The camera's frame interval in ms as kept (after InputFrameRate), measured from its timestamps; before enough
   * frames came, InputFrameRate's interval if set, else undefined.
   */
  get frameIntervalMs(): number | undefined {
    return this.intervals.intervalMs ?? (this.camera.inputFrameRate > 0 ? 1000 / this.camera.inputFrameRate : undefined);
  }

  /** The camera's audio track as last seen (undefined until its first audio frame, or for a silent camera). */
  get audioTrack(): AudioTrack | undefined {
    return this.audio.latest?.track;
  }

  /** The sound the camera's current run announced (its SDP), whether or not any has come. */
  announcedAudioTrack: AudioTrack | undefined;

  /** Why the current run left the camera's announced sound out, if it did. */
  audioLeftOut: string | undefined;

  /** Adds a listener for the camera's audio frames from now on; returns the function that removes it. */
  subscribeAudio(listener: AudioListener): () => void {
    return this.audio.subscribe(listener);
  }

  /** Frames from the last keyframe to now. */
  get groupOfPictures(): readonly VideoUnit[] {
    return this.hub.groupOfPictures;
  }

  /** The camera's own H.264 track as `VideoCodec copy` hands it on (undefined until its first usable frame). */
  get h264Track(): H264Track | undefined {
    return this.copyable;
  }

  /** The kept group as `VideoCodec copy` hands it on: the Feed's own, without the frames a copy cannot use. */
  get h264Group(): readonly H264Unit[] {
    const group = this.hub.groupOfPictures;
    return group.every(isCopyable) ? group : group.filter(isCopyable);
  }

  /** Why `VideoCodec copy` could not hand on the camera's newest unusable frame; undefined if none came. */
  get copyProblem(): string | undefined {
    const track = this.uncopyable;
    if (!track) return undefined;
    return track.codec === 'h264' ? 'unreadable SPS from the camera' : `VideoCodec copy needs an H.264 camera; this one sends ${track.codec}`;
  }

  /** Adds a listener for the camera's frames that `VideoCodec copy` hands on as they are; returns its remover. */
  subscribeH264(listener: H264Listener): () => void {
    return this.hub.subscribe((frame) => {
      if (isCopyable(frame)) listener(frame);
    });
  }

  /** Starts an always-on feed; an on-demand feed waits for acquire(). */
  start(): void {
    if (!this.camera.onDemand) this.supervisor.start();
  }

  /** Registers interest in this camera's frames; returns the release function (safe to call twice). */
  acquire(): () => void {
    return this.hub.acquire();
  }

  subscribe(listener: FrameListener): () => void {
    return this.hub.subscribe(listener);
  }

  private held(): void {
    clearTimeout(this.lingerTimer);
    this.lingerTimer = undefined;
    if (this.camera.onDemand && !this.closed && !this.supervisor.running) {
      this.options.log.info('first viewer: connecting on demand');
      this.supervisor.start();
    }
  }

  private released(): void {
    if (!this.camera.onDemand || this.closed) return;
    this.lingerTimer = setTimeout(() => void this.releaseIdle(), this.camera.closeAfterMs);
    this.lingerTimer.unref();
  }

  /**
   * The keyframe a process should start on: the held group's first frame, else the next keyframe that `accept`
   * takes; undefined if `signal` aborts first.
   */
  nextKeyframe(signal: AbortSignal, accept: (frame: VideoUnit) => boolean = () => true): Promise<VideoUnit | undefined> {
    const held = this.hub.groupOfPictures[0];
    if (held && accept(held)) return Promise.resolve(held);
    return nextValue((listener) => this.subscribe(listener), signal, (frame) => frame.keyframe && accept(frame));
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.lingerTimer);
    this.hub.clearSubscribers();
    this.audio.clearSubscribers();
    await this.supervisor.stop();
  }

  private async releaseIdle(): Promise<void> {
    if (this.hub.holders > 0 || this.closed) return;
    this.options.log.info(`no viewers for ${this.camera.closeAfterMs / 1000} s: disconnecting`);
    await this.supervisor.stop();
    this.hub.reset();
    this.audio.reset();
  }

  /** Runs the adapter once, with the watchdog: silence for timeoutMs ends the run with a TIMEOUT error. */
  private async runAdapter(adapter: CameraAdapter, signal: AbortSignal, live: () => void, waiting: () => void): Promise<void> {
    const controller = new AbortController();
    const forward = (): void => controller.abort();
    signal.addEventListener('abort', forward, { once: true });
    let watchdogError: AdapterError | undefined;
    let lastActivity = Date.now();
    let publisherAwaited = false;
    let wentLive = false;
    this.timeline.newRun();
    this.announcedAudioTrack = undefined;
    this.audioLeftOut = undefined;
    const watchdog = setInterval(() => {
      if (publisherAwaited || Date.now() - lastActivity < this.camera.timeoutMs) return;
      watchdogError = new AdapterError('TIMEOUT', `no frames for ${this.camera.timeoutMs / 1000} s`);
      controller.abort();
    }, Math.min(1000, this.camera.timeoutMs / 4));
    const sink: AdapterSink = {
      signal: controller.signal,
      // Answering is not enough to be live: a camera is live once an image arrives (an RTSP camera can PLAY and send nothing).
      onConnected: () => {
        publisherAwaited = false;
        lastActivity = Date.now();
      },
      onWaiting: () => {
        publisherAwaited = true;
        wentLive = false; // a push source waits again between publishers: the next one's first frame makes it live
        waiting();
      },
      onFrame: (frame) => {
        if (controller.signal.aborted) return;
        const bytes = unitBytes(frame);
        this.counters.bytesIn += bytes;
        if (!isPlausibleFrame(frame)) {
          this.counters.framesInvalid++;
          return;
        }
        lastActivity = Date.now();
        if (!wentLive) {
          wentLive = true;
          publisherAwaited = false;
          live();
        }
        this.accept(frame, bytes);
      },
      onAudio: (unit) => {
        if (controller.signal.aborted) return;
        this.counters.audioBytesIn += unit.data.length;
        // Audio keeps the watchdog quiet (a camera whose picture stops is still there), but only video makes it live.
        lastActivity = Date.now();
        this.acceptAudio(unit);
      },
      onAudioAnnounced: (track) => {
        if (!controller.signal.aborted) this.announcedAudioTrack = track;
      },
      onAudioLeftOut: (reason) => {
        if (!controller.signal.aborted) this.audioLeftOut = reason;
      },
      log: (message) => this.options.log.info(message),
    };
    try {
      await adapter.run(sink);
    } finally {
      clearInterval(watchdog);
      signal.removeEventListener('abort', forward);
    }
    if (watchdogError) throw watchdogError;
  }

  /** Puts the frame on the camera's timeline, applies InputFrameRate, keeps the keyframe group, hands it on. */
  private accept(received: VideoUnit, bytes: number): void {
    // Decode times only increase, as the timeline wants; a B-frame's presentation time keeps its distance from them.
    const dts = this.timeline.map(received.dts, Date.now());
    const frame = { ...received, pts: dts + received.pts - received.dts, dts };
    const rate = this.camera.inputFrameRate;
    if (rate > 0 && isJpegUnit(frame) && !this.inputRate.admit(frame.dts, rate)) {
      this.counters.framesDropped++;
      return;
    }
    this.intervals.add(frame.dts);
    this.counters.framesIn++;
    this.counters.lastFrameAt = Date.now();
    if (isCopyable(frame)) {
      this.counters.copyableFramesIn++;
      this.counters.copyableBytesIn += bytes;
      this.copyable = frame.track;
    } else {
      this.uncopyable = frame.track;
    }
    this.hub.publish(frame);
  }

  /** Puts an audio frame on the camera's timeline beside the video; one whose time goes back is dropped and counted. */
  private acceptAudio(received: AudioUnit): void {
    const placed = this.timeline.mapAudio(received.pts, Date.now());
    if (!placed) {
      this.counters.audioFramesDropped++;
      return;
    }
    if (placed.rebased) {
      // One line for the first jump and every hundredth after: a camera whose audio clock jumps all the time must not flood the log.
      if (this.counters.audioRebased++ % 100 === 0) this.options.log.warn(`audio time jumped (${this.counters.audioRebased} so far): re-based after the last frame`);
    }
    const shift = received.dts - received.pts;
    this.counters.audioFramesIn++;
    this.counters.lastAudioAt = Date.now();
    this.audio.publish({ ...received, pts: placed.time, dts: placed.time + shift });
  }
}

/**
 * Whether a frame can be an image at all, by its codec's own check (NAL unit headers, a whole JPEG, a VP8 start code):
 * anything else is dropped before it reaches a queue, an encoder or a viewer.
 */
function isPlausibleFrame(frame: VideoUnit): boolean {
  if (isH264Unit(frame)) return hasPlausibleNalUnits(frame.data);
  if (frame.track.codec === 'jpeg') return isPlausibleJpeg(frame.data);
  return isPlausibleVp8Frame(frame.data, frame.keyframe);
}

/** True for a frame `VideoCodec copy` can hand on as it is: H.264 whose SPS could be read (it gives the picture size). */
function isCopyable(frame: VideoUnit): frame is H264Unit {
  return isH264Unit(frame) && frame.track.width > 0;
}

/** Error text safe for the status page: AdapterErrors carry safe messages; anything else is summarised. */
export function describeAdapterError(error: unknown): string {
  if (error instanceof AdapterError || error instanceof ProtocolError) return `${error.code}: ${error.message}`;
  if (error instanceof Error) return `INTERNAL: ${error.message}`;
  return 'INTERNAL: unknown failure';
}
