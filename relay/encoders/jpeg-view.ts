import type PQueue from 'p-queue';
import { StderrTail } from '../../lib/stderr-tail.ts';
import { isJpegUnit, jpegUnit, type JpegUnit, type VideoUnit } from '../../media/types.ts';
import { Hub } from '../core/hub.ts';
import type { Feed } from '../core/feed.ts';
import type { Logger } from '../../lib/log.ts';
import { withProcessSlot, type ProcessSlots } from '../../lib/process-slots.ts';
import { Supervisor } from '../core/supervisor.ts';
import { startJpegProcess } from './jpeg-process.ts';
import { MkvInput } from './mkv-input.ts';
import { RtpReadyJpegs } from './rtp-ready-jpegs.ts';

export type JpegListener = (frame: JpegUnit) => void;

/** ffmpeg turning a camera's H.264 or VP8 into JPEGs (for MJPEG and snapshot streams); frames in with their times. */
export function jpegTranscodeArgs(): string[] {
  return [
    // -analyzeduration 1, not 0: 0 means ffmpeg's default 5 s, and the probe then waits for 32 KB of video (1-2 s at
    // a camera's usual bit rate) before the first picture: a snapshot waited that long for every restart of the view.
    '-hide_banner', '-nostats', '-loglevel', 'error', '-fflags', '+nobuffer', '-probesize', '32768', '-analyzeduration', '1',
    // Standard Huffman tables: RTP/JPEG (RFC 2435) can carry no others, and RTSP readers of MJPEG streams get these JPEGs.
    '-f', 'matroska', '-i', 'pipe:0', '-an', '-c:v', 'mjpeg', '-huffman', 'default', '-q:v', '5', '-pix_fmt', 'yuvj420p', '-f', 'mjpeg', 'pipe:1',
  ];
}

/**
 * A camera as JPEG frames, for MJPEG and JPEG streams: a JPEG camera's own frames pass through untouched; a camera
 * that sends H.264 or VP8 gets one ffmpeg that decodes it to JPEGs, running only while someone holds the view.
 */
export class JpegView {
  latestFrame: JpegUnit | undefined;
  lastFrameAt: number | undefined;
  readonly transcoder: Supervisor;
  /** The same frames as RTP/JPEG can carry them (re-encoded once for every RTSP reader where they do not fit). */
  readonly forRtp: RtpReadyJpegs;
  private readonly stderr = new StderrTail(10);
  /** The view's JPEGs to its consumers, and who holds the view. */
  private readonly hub: Hub<JpegUnit>;
  private releaseFeed: (() => void) | undefined;
  private needsTranscode = false;
  private unsubscribe: (() => void) | undefined;

  constructor(
    readonly feed: Feed,
    private readonly options: { ffmpegPath: string; startQueue: PQueue; processSlots: ProcessSlots; log: Logger },
  ) {
    this.hub = new Hub<JpegUnit>({
      keyframe: () => true,
      size: (frame) => frame.data.length,
      onSubscriberError: (error) => options.log.error(`JPEG listener failed and was removed: ${error.message}`),
      onAcquire: () => this.held(),
      onLast: () => this.released(),
    });
    this.transcoder = new Supervisor({ name: `${feed.camera.name} jpeg`, startQueue: options.startQueue, log: options.log, task: (signal, live) => this.transcode(signal, live) });
    this.forRtp = new RtpReadyJpegs(this, { ...options, name: feed.camera.name, maxFrameBytes: feed.camera.maxFrameBytes });
  }

  get camera() {
    return this.feed.camera;
  }

  start(): void {
    this.unsubscribe ??= this.feed.subscribe((frame) => this.onCameraFrame(frame));
    const held = this.feed.latestFrame;
    if (held && isJpegUnit(held)) this.publish(held);
  }

  subscribe(listener: JpegListener): () => void {
    return this.hub.subscribe(listener);
  }

  /**
   * True while the latest frame is the camera's picture of now: the camera is live and, for a video camera, its
   * transcoder is running (a stopped view keeps its last picture, which grows stale).
   */
  get current(): boolean {
    if (this.feed.state !== 'live') return false;
    return !this.needsTranscode || this.transcoder.state === 'live';
  }

  /** True while the camera or its transcoder is down and retrying: no picture is coming soon. */
  get failing(): boolean {
    return this.feed.state === 'retrying' || this.feed.state === 'waiting' || this.transcoder.state === 'retrying';
  }

  /**
   * The picture of now for a holder of the view: the latest frame while the view is current (or failing: the caller
   * judges its age), else the next one, waiting up to `waitMs` while the camera or transcoder starts.
   */
  async currentFrame(waitMs: number): Promise<JpegUnit | undefined> {
    if (this.latestFrame && (this.current || this.failing)) return this.latestFrame;
    return (await this.nextFrame(waitMs)) ?? this.latestFrame;
  }

  private nextFrame(waitMs: number): Promise<JpegUnit | undefined> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => finish(undefined), waitMs);
      const unsubscribe = this.subscribe((frame) => finish(frame));
      function finish(frame: JpegUnit | undefined): void {
        clearTimeout(timer);
        unsubscribe();
        resolve(frame);
      }
    });
  }

  /** Holds the camera (and the transcoder, where one is needed) while the release function is not called. */
  acquire(): () => void {
    return this.hub.acquire();
  }

  private held(): void {
    this.releaseFeed ??= this.feed.acquire();
    if (this.needsTranscode) this.transcoder.start();
  }

  private released(): void {
    this.releaseFeed?.();
    this.releaseFeed = undefined;
    void this.transcoder.stop();
  }

  async close(): Promise<void> {
    await this.forRtp.close();
    this.unsubscribe?.();
    this.hub.clearSubscribers();
    this.releaseFeed?.();
    await this.transcoder.stop();
  }

  private onCameraFrame(frame: VideoUnit): void {
    if (isJpegUnit(frame)) return this.publish(frame);
    if (this.needsTranscode) return;
    // The camera sends video, not JPEGs: from now on its JPEGs come from a transcoder, while someone watches.
    this.needsTranscode = true;
    if (this.hub.holders > 0) this.transcoder.start();
  }

  private publish(frame: JpegUnit): void {
    this.latestFrame = frame;
    this.lastFrameAt = Date.now();
    this.hub.publish(frame);
  }

  private async transcode(signal: AbortSignal, live: () => void): Promise<void> {
    const first = await this.feed.nextKeyframe(signal, (frame) => !isJpegUnit(frame));
    if (first) await withProcessSlot(this.options.processSlots, signal, () => this.runProcess(first, signal, live));
  }

  private runProcess(first: VideoUnit, signal: AbortSignal, live: () => void): Promise<void> {
    const input = MkvInput.open(first);
    let latestInputTime = first.pts;
    const { stdin, done } = startJpegProcess({
      ffmpegPath: this.options.ffmpegPath, args: jpegTranscodeArgs(), maxFrameBytes: this.feed.camera.maxFrameBytes, label: 'JPEG transcoder',
      stderr: this.stderr, signal, live,
      onJpeg: (data) => this.publish(jpegUnit(data, latestInputTime)),
      onClose: () => unsubscribe(),
    });
    const write = (frame: VideoUnit): void => {
      if (frame.track.codec !== input.codec || !stdin.writable || stdin.writableLength > 4 * 1024 * 1024) return;
      latestInputTime = frame.pts;
      stdin.write(input.block(frame));
    };
    stdin.write(input.header());
    for (const frame of this.feed.groupOfPictures) write(frame);
    const unsubscribe = this.feed.subscribe(write);
    return done;
  }
}
