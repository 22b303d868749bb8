import type PQueue from 'p-queue';
import { StderrTail } from '../../lib/stderr-tail.ts';
import type { H264Listener, H264Track, H264Unit, VideoUnit } from '../../media/types.ts';
import { encoderArgs, type EncoderSettings, type FfmpegFeatures } from './ffmpeg-args.ts';
import type { Feed } from '../core/feed.ts';
import { FlvTagReader } from '../../media/flv/tags.ts';
import type { Logger } from '../../lib/log.ts';
import { FlvFrameReader } from '../../media/flv/frames.ts';
import { MkvInput } from './mkv-input.ts';
import { SharedEncoder, type EncoderCounters } from './shared-encoder.ts';
import { EncodedHub } from '../core/hub.ts';
import { OUTPUT_STALL_MS, StallClock } from './stall-clock.ts';
import type { ProcessSlots } from '../../lib/process-slots.ts';
import { startProcess, type RunningProcess } from '../../lib/ffmpeg-runner.ts';
import type { EventSink } from '../../lib/event-bus.ts';
import { Supervisor } from '../core/supervisor.ts';

/** Frames waiting in ffmpeg's stdin beyond these are dropped: a stuck encoder must not grow the relay's memory. */
const MAX_STDIN_QUEUE_BYTES = 8 * 1024 * 1024;
const MAX_STDIN_QUEUE_FRAMES = 120;
/** After stdin closes, ffmpeg gets this long to flush before SIGKILL. */
const EXIT_GRACE_MS = 2_000;
/** The frame interval assumed for a camera whose rate is not known yet (25 fps); x264 then follows the real durations. */
const UNKNOWN_FRAME_INTERVAL_MS = 40;
/** How often an encoder started ahead of its first keyframe checks whether another process waits for its slot. */
const SLOT_CHECK_MS = 100;

export interface FfmpegEncoderOptions {
  readonly id: string;
  readonly settings: EncoderSettings;
  readonly feed: Feed;
  readonly ffmpegPath: string;
  readonly ffmpegFeatures: FfmpegFeatures;
  readonly startQueue: PQueue;
  readonly processSlots: ProcessSlots;
  readonly log: Logger;
  /** Told when the encoder dies and when it is back (stream.retrying, stream.recovered). */
  readonly events?: EventSink;
}

/**
 * One ffmpeg (libx264) for one distinct video setting of a camera, however many streams, containers and viewers use
 * it. Camera frames go in on stdin with their timestamps (Matroska); encoded access units come out as FLV and are
 * published with times on the camera's timeline. Supervised: restarted with backoff, stderr tail kept, killed with
 * the relay (and exiting by itself if the relay dies, since its stdin then closes).
 */
export class FfmpegEncoder extends SharedEncoder {
  readonly supervisor: Supervisor;
  readonly counters: EncoderCounters = { framesIn: 0, framesDropped: 0, framesOut: 0, bytesOut: 0 };
  private readonly stderr = new StderrTail(20);
  /** The encoded units to the streams, and the group kept for a viewer that joins. */
  private readonly hub: EncodedHub;
  pid: number | undefined;

  constructor(private readonly options: FfmpegEncoderOptions) {
    super(options.id, options.settings, options.feed, options.log);
    this.hub = new EncodedHub(options.id, {
      onSubscriberError: (error) => options.log.error(`encoded frame listener failed and was removed: ${error.message}`),
    });
    this.supervisor = new Supervisor({
      name: options.id,
      startQueue: options.startQueue,
      log: options.log,
      task: (signal, live) => this.runOnce(signal, live),
      onChange: (change, message) => (change === 'retrying' || change === 'recovered') && options.events?.emit(`stream.${change}`, options.id, message),
    });
  }

  get stderrTail(): string {
    return this.stderr.text;
  }

  get track(): H264Track | undefined {
    return this.hub.track;
  }

  get groupOfPictures(): readonly H264Unit[] {
    return this.hub.groupOfPictures;
  }

  subscribe(listener: H264Listener): () => void {
    return this.hub.subscribe(listener);
  }

  protected run(): void {
    this.supervisor.start();
  }

  protected async halt(): Promise<void> {
    await this.supervisor.stop();
    this.hub.reset();
  }

  private publish(unit: H264Unit, bytes: number): void {
    this.counters.framesOut++;
    this.counters.bytesOut += bytes;
    this.hub.publish(unit);
  }

  private async runOnce(signal: AbortSignal, live: () => void): Promise<void> {
    // ffmpeg starts on a decodable frame: the keyframe the Feed holds, or the camera's next one. It is spawned while
    // that keyframe is awaited (its start, some 100-300 ms, then overlaps the camera's) when slots are left for both.
    let early = this.hasRoomForTwo() ? this.spawn(signal) : undefined;
    // A process waiting for a slot may be the camera's own reader: the early encoder gives its slot back at once.
    const yieldSlot = early && setInterval(() => {
      if (!early || this.options.processSlots.waiting === 0) return;
      void early.then((child) => child?.kill());
      early = undefined;
    }, SLOT_CHECK_MS);
    const first = await this.feed.nextKeyframe(signal).finally(() => clearInterval(yieldSlot));
    const child = first ? await (early ?? this.spawn(signal)) : undefined;
    if (!first || !child) {
      (await early)?.kill();
      return;
    }
    await this.runProcess(child, first, live);
  }

  /** True when this encoder can take a process slot and leave one for its camera's reader (MaxProcesses). */
  private hasRoomForTwo(): boolean {
    const { processSlots } = this.options;
    return processSlots.waiting === 0 && processSlots.inUse + 2 <= processSlots.limit;
  }

  private spawn(signal: AbortSignal): Promise<RunningProcess | undefined> {
    return startProcess(this.options.processSlots, {
      command: this.options.ffmpegPath, args: encoderArgs(this.settings, this.options.ffmpegFeatures), signal,
      // After stdin closes, ffmpeg flushes what it holds; SIGKILL when the grace period ends.
      stdinBudget: MAX_STDIN_QUEUE_BYTES, graceMs: EXIT_GRACE_MS, stopSignal: null, stderr: this.stderr,
    });
  }

  private runProcess(child: RunningProcess, first: VideoUnit, live: () => void): Promise<void> {
    // Without the camera's rate ffmpeg takes the 1 ms time base for 1000 fps, and x264 gives each frame 1/1000 of a
    // second's bit budget: 30 kbit/s of a configured 1000.
    const input = MkvInput.open(first, this.feed.frameIntervalMs ?? UNKNOWN_FRAME_INTERVAL_MS);
    this.pid = child.pid;
    const tags = new FlvTagReader();
    const frames = new FlvFrameReader();
    return new Promise<void>((resolve, reject) => {
      let queuedFrames = 0;
      let waitingForKeyframe = false;
      const stall = new StallClock();
      const write = (frame: VideoUnit): void => {
        if (!child.stdinOpen) return;
        if ((waitingForKeyframe && !frame.keyframe) || frame.track.codec !== input.codec) {
          this.counters.framesDropped++;
          return;
        }
        // Over the frame count or the stdin byte budget: drop, and start again at a keyframe.
        if (queuedFrames >= MAX_STDIN_QUEUE_FRAMES || !child.write(input.block(frame), () => queuedFrames--)) {
          this.counters.framesDropped++;
          waitingForKeyframe = true;
          return;
        }
        waitingForKeyframe = false;
        queuedFrames++;
        this.counters.framesIn++;
        stall.fed(Date.now());
      };
      child.write(input.header());
      for (const frame of this.feed.groupOfPictures) write(frame);
      const unsubscribe = this.feed.subscribe(write);
      const stallCheck = setInterval(() => {
        if (!stall.stalled(Date.now())) return;
        this.stderr.push(`relay: no output for ${OUTPUT_STALL_MS / 1000} s while fed; restarting\n`);
        child.kill();
      }, 1000);
      child.stdout.on('data', (chunk: Buffer) => {
        stall.answered();
        try {
          for (const tag of tags.push(chunk)) {
            const frame = frames.read(tag);
            if (!frame) continue;
            const time = { pts: frame.pts + input.runStart, dts: frame.dts + input.runStart };
            this.publish({ ...frame, ...time }, tag.bytes.length);
            live();
          }
        } catch (error) {
          this.stderr.push(`relay: unreadable encoder output: ${(error as Error).message}\n`);
          child.kill();
        }
      });
      void child.exit.then((exit) => {
        clearInterval(stallCheck);
        unsubscribe();
        this.pid = undefined;
        if (exit.aborted) return resolve();
        reject(new Error(`ffmpeg ${exit.how}: ${this.stderr.lastLine || 'no error output'}`));
      });
    });
  }
}
