import type PQueue from 'p-queue';
import { StderrTail } from '../../lib/stderr-tail.ts';
import { parseJpegForRtp } from '../../media/rtp/jpeg-packetizer.ts';
import { jpegUnit, type JpegUnit } from '../../media/types.ts';
import { Hub } from '../core/hub.ts';
import type { Logger } from '../../lib/log.ts';
import { nextValue } from '../core/next-value.ts';
import { withProcessSlot, type ProcessSlots } from '../../lib/process-slots.ts';
import { Supervisor } from '../core/supervisor.ts';
import { startJpegProcess } from './jpeg-process.ts';
import { MkvInput } from './mkv-input.ts';

/** What this needs of a camera's JPEG view: its frames and a hold on it. */
export interface JpegSource {
  readonly latestFrame: JpegUnit | undefined;
  subscribe(listener: (frame: JpegUnit) => void): () => void;
  acquire(): () => void;
}

/** RFC 2435 sizes are counted in 8-pixel blocks in one byte: 255 blocks, 2040 pixels, at most. */
const MAX_RTP_JPEG_SIDE = 2040;
/** Input times waiting for their re-encoded frame; ffmpeg answers frame for frame, so this stays tiny. */
const MAX_PENDING_TIMES = 200;

/**
 * ffmpeg re-encoding JPEGs into the baseline subset RTP/JPEG carries: standard Huffman tables, 4:2:0, three
 * components, 8-bit tables, no side over 2040 pixels; frame for frame (no frame is dropped or repeated).
 */
export function rtpJpegArgs(): string[] {
  const fit = `scale='min(iw,${MAX_RTP_JPEG_SIDE})':'min(ih,${MAX_RTP_JPEG_SIDE})':force_original_aspect_ratio=decrease`;
  return [
    // One thread each way: frame threads would hold two or three frames back (100-300 ms at 10 fps).
    '-hide_banner', '-nostats', '-loglevel', 'error', '-fflags', '+nobuffer', '-probesize', '32768', '-analyzeduration', '1', '-threads', '1',
    // Input times (ms) kept as they are: the encoder's default time base, 1/frame rate, would merge close frames.
    '-f', 'matroska', '-i', 'pipe:0', '-an', '-fps_mode', 'passthrough', '-enc_time_base', '-1', '-vf', fit,
    '-c:v', 'mjpeg', '-huffman', 'default', '-q:v', '3', '-pix_fmt', 'yuvj420p', '-threads', '1', '-f', 'mjpeg', 'pipe:1',
  ];
}

/**
 * A camera's JPEGs as RTP/JPEG can carry them: passed through while they fit; once one does not (most cameras and
 * ffmpeg's own encoder write optimised Huffman tables), re-encoded by one ffmpeg per camera, running only while an
 * RTSP reader holds this. Malformed JPEGs pass on, for the RTP source to count and skip.
 */
export class RtpReadyJpegs implements JpegSource {
  readonly reencoder: Supervisor;
  /** The frames RTP/JPEG can carry, to the RTSP streams that read them, and who holds this. */
  private readonly hub: Hub<JpegUnit>;
  private readonly stderr = new StderrTail(10);
  private releaseView: (() => void) | undefined;
  private unsubscribe: (() => void) | undefined;
  private reencoded: JpegUnit | undefined;
  private reencoding = false;
  private input: ((frame: JpegUnit) => void) | undefined;

  constructor(
    private readonly view: JpegSource,
    private readonly options: { name: string; ffmpegPath: string; maxFrameBytes: number; startQueue: PQueue; processSlots: ProcessSlots; log: Logger },
  ) {
    this.hub = new Hub<JpegUnit>({
      keyframe: () => true,
      size: (frame) => frame.data.length,
      onSubscriberError: (error) => options.log.error(`RTP/JPEG listener failed and was removed: ${error.message}`),
      onAcquire: () => this.held(),
      onLast: () => this.released(),
    });
    this.reencoder = new Supervisor({ name: `${options.name} rtp jpeg`, startQueue: options.startQueue, log: options.log, task: (signal, live) => this.run(signal, live) });
  }

  /** The newest frame an RTP/JPEG reader can be sent now. */
  get latestFrame(): JpegUnit | undefined {
    if (this.reencoding) return this.reencoded;
    const latest = this.view.latestFrame;
    return latest && !needsReencoding(latest) ? latest : undefined;
  }

  subscribe(listener: (frame: JpegUnit) => void): () => void {
    return this.hub.subscribe(listener);
  }

  /** Holds the camera's view (and the re-encoder, once needed) while the release function is not called. */
  acquire(): () => void {
    return this.hub.acquire();
  }

  async close(): Promise<void> {
    this.released();
    this.hub.clearSubscribers();
    await this.reencoder.stop();
  }

  private held(): void {
    this.releaseView ??= this.view.acquire();
    this.unsubscribe ??= this.view.subscribe((frame) => this.onFrame(frame));
    if (this.reencoding) this.reencoder.start();
  }

  private released(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.releaseView?.();
    this.releaseView = undefined;
    this.reencoded = undefined;
    void this.reencoder.stop();
  }

  private onFrame(frame: JpegUnit): void {
    if (!this.reencoding && !needsReencoding(frame)) return this.publish(frame);
    if (!this.reencoding) {
      // From now on every frame goes through the re-encoder, so frames never overtake each other.
      this.reencoding = true;
      const parsed = parseJpegForRtp(frame.data);
      this.options.log.info(`the camera's JPEGs cannot travel as RTP/JPEG (${'skip' in parsed ? parsed.skip : 'unknown'}): re-encoding them for RTSP readers`);
      this.reencoder.start();
    }
    this.input?.(frame);
  }

  private publish(frame: JpegUnit): void {
    this.hub.publish(frame);
  }

  private async run(signal: AbortSignal, live: () => void): Promise<void> {
    const first = await this.nextFrame(signal);
    if (first) await withProcessSlot(this.options.processSlots, signal, () => this.runProcess(first, signal, live));
  }

  private nextFrame(signal: AbortSignal): Promise<JpegUnit | undefined> {
    return nextValue((listener) => this.view.subscribe(listener), signal);
  }

  private runProcess(first: JpegUnit, signal: AbortSignal, live: () => void): Promise<void> {
    const mkv = MkvInput.open(first);
    const times: number[] = [];
    let lastTime = first.pts - 1;
    const { stdin, done } = startJpegProcess({
      ffmpegPath: this.options.ffmpegPath, args: rtpJpegArgs(), maxFrameBytes: this.options.maxFrameBytes, label: 'RTP/JPEG re-encoder',
      stderr: this.stderr, signal, live,
      onJpeg: (data) => {
        const timestamp = times.shift() ?? lastTime;
        this.reencoded = jpegUnit(data, timestamp);
        this.publish(this.reencoded);
      },
      onClose: () => {
        if (this.input === write) this.input = undefined;
      },
    });
    const write = (frame: JpegUnit): void => {
      if (!stdin.writable || stdin.writableLength > 4 * 1024 * 1024 || times.length >= MAX_PENDING_TIMES) return;
      times.push(frame.pts);
      // Each block a millisecond after the last at least: two frames in one millisecond would stop the encoder.
      const blockTime = Math.max(frame.pts, lastTime + 1);
      lastTime = blockTime;
      stdin.write(mkv.block({ ...frame, pts: blockTime, dts: blockTime }));
    };
    stdin.write(mkv.header());
    write(first);
    this.input = write;
    return done;
  }
}

/** True for a JPEG that RTP/JPEG cannot carry as it is but a re-encoding can (malformed ones cannot be helped). */
function needsReencoding(frame: JpegUnit): boolean {
  const parsed = parseJpegForRtp(frame.data);
  return 'skip' in parsed && parsed.skip !== 'malformed';
}
