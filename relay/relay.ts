import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import PQueue from 'p-queue';
import type { AdapterRegistry } from '../adapters/registry.ts';
import type { CameraConfig, RelayConfig, StreamConfig } from '../conf/types.ts';
import { Admission } from './admission.ts';
import { Feed } from './feed.ts';
import type { FfmpegInfo } from './ffmpeg-locate.ts';
import type { Logger } from './log.ts';
import { FlvOutput } from './outputs/flv.ts';
import { HlsOutput, hlsSegmentPrefix } from './outputs/hls.ts';
import { JpegOutput } from './outputs/jpeg.ts';
import { MjpegOutput } from './outputs/mjpeg.ts';
import type { StreamOutput } from './outputs/output.ts';
import { Transcode } from './transcode.ts';

/** How many camera connections and ffmpeg starts may be under way at once. */
const START_CONCURRENCY = 8;
const SWEEP_INTERVAL_MS = 1000;

export interface RelayDeps {
  readonly ffmpeg: FfmpegInfo;
  readonly adapters: AdapterRegistry;
  readonly log: Logger;
}

/**
 * The running relay: one Feed per camera and one output per Stream, built from a config and rebuilt piecewise on
 * reload. The HTTP edge (server.ts) reads from it; it never touches sockets itself.
 */
export class Relay {
  readonly feeds = new Map<string, Feed>();
  readonly outputs = new Map<string, StreamOutput>();
  readonly startQueue = new PQueue({ concurrency: START_CONCURRENCY });
  readonly startedAt = Date.now();
  admission: Admission;
  private sweepTimer: NodeJS.Timeout | undefined;
  private hlsRoot: string | undefined;
  private ownsHlsRoot = false;
  private readonly stopController = new AbortController();

  constructor(
    public config: RelayConfig,
    readonly deps: RelayDeps,
  ) {
    this.admission = new Admission(config, () => this.outputs.values());
  }

  async start(): Promise<void> {
    if (this.config.hlsDir) {
      this.hlsRoot = this.config.hlsDir;
      await mkdir(this.hlsRoot, { recursive: true });
    } else {
      this.hlsRoot = await mkdtemp(join(tmpdir(), 'relay-hls-'));
      this.ownsHlsRoot = true;
    }
    for (const camera of this.config.cameras) this.addFeed(camera);
    for (const stream of this.config.streams) await this.addOutput(stream);
    this.sweepTimer = setInterval(() => this.sweep(), SWEEP_INTERVAL_MS);
    this.sweepTimer.unref();
  }

  /** Aborted when stop() begins, so that samplers and pages built on this relay end with it. */
  get stopSignal(): AbortSignal {
    return this.stopController.signal;
  }

  /** Stops every output and feed; ffmpeg children get stdin EOF, then SIGKILL after a grace period. */
  async stop(): Promise<void> {
    this.stopController.abort();
    clearInterval(this.sweepTimer);
    await Promise.all([...this.outputs.values()].map((output) => output.close()));
    await Promise.all([...this.feeds.values()].map((feed) => feed.close()));
    this.outputs.clear();
    this.feeds.clear();
    this.startQueue.clear();
    if (this.ownsHlsRoot && this.hlsRoot) await rm(this.hlsRoot, { recursive: true, force: true });
  }

  /**
   * Applies a new config: removed or changed cameras and streams stop, new or changed ones start, unchanged ones keep
   * running with their viewers connected. HTTP port and bind address changes need a restart.
   */
  async reload(next: RelayConfig): Promise<{ added: string[]; removed: string[]; kept: string[] }> {
    const log = this.deps.log;
    const changedCameras = new Set<string>();
    for (const camera of next.cameras) {
      const old = this.config.cameras.find((candidate) => candidate.name === camera.name);
      if (!old || !sameExceptLine(old, camera)) changedCameras.add(camera.name);
    }
    const removed: string[] = [];
    const added: string[] = [];
    const kept: string[] = [];
    for (const [name, output] of this.outputs) {
      const wanted = next.streams.find((stream) => stream.name === name);
      if (!wanted || !sameExceptLine(wanted, output.config) || changedCameras.has(wanted.feed ?? '')) {
        await output.close();
        this.outputs.delete(name);
        removed.push(name);
      }
    }
    for (const [name, feed] of this.feeds) {
      if (!next.cameras.some((camera) => camera.name === name) || changedCameras.has(name)) {
        await feed.close();
        this.feeds.delete(name);
        removed.push(`camera ${name}`);
      }
    }
    this.config = next;
    this.admission = new Admission(next, () => this.outputs.values());
    for (const camera of next.cameras) {
      if (!this.feeds.has(camera.name)) {
        this.addFeed(camera);
        added.push(`camera ${camera.name}`);
      }
    }
    for (const stream of next.streams) {
      if (stream.format === 'status') continue;
      if (this.outputs.has(stream.name)) kept.push(stream.name);
      else {
        await this.addOutput(stream);
        added.push(stream.name);
      }
    }
    log.info(`reloaded: added ${added.join(', ') || 'nothing'}; removed ${removed.join(', ') || 'nothing'}; kept ${kept.length}`);
    return { added, removed, kept };
  }

  /** The output whose HLS segment prefix is `prefix/`, for /PREFIX/segNNNNNN.ts requests. */
  hlsBySegmentPrefix(prefix: string): StreamOutput | undefined {
    for (const output of this.outputs.values()) {
      if (output instanceof HlsOutput && hlsSegmentPrefix(output.config.name) === `${prefix}/`) return output;
    }
    return undefined;
  }

  private addFeed(camera: CameraConfig): void {
    const { adapters, ffmpeg, log } = this.deps;
    const feed = new Feed({
      camera,
      createAdapter: () => adapters.create(camera, { ffmpegPath: ffmpeg.path }),
      startQueue: this.startQueue,
      log: log.child(`camera ${camera.name}`),
    });
    this.feeds.set(camera.name, feed);
    feed.start();
  }

  private async addOutput(stream: StreamConfig): Promise<void> {
    if (stream.format === 'status' || !stream.feed) return;
    const feed = this.feeds.get(stream.feed)!;
    const log = this.deps.log.child(`stream ${stream.name}`);
    let output: StreamOutput;
    if (stream.format === 'flv') {
      const holder: { flv?: FlvOutput } = {};
      const transcode = this.transcodeFor(stream, feed, { kind: 'flv' }, log, {
        onProcessStart: () => holder.flv?.resetStream(),
        onStdout: (chunk) => holder.flv?.onFfmpegOutput(chunk),
      });
      output = holder.flv = new FlvOutput(stream, feed, transcode, log);
    } else if (stream.format === 'hls') {
      const dir = join(this.hlsRoot!, stream.name);
      await rm(dir, { recursive: true, force: true });
      await mkdir(dir, { recursive: true });
      const transcode = this.transcodeFor(stream, feed, { kind: 'hls', dir, segmentPrefix: hlsSegmentPrefix(stream.name) }, log);
      output = new HlsOutput(stream, feed, transcode, dir);
    } else if (stream.format === 'mpjpeg') output = new MjpegOutput(stream, feed);
    else output = new JpegOutput(stream, feed);
    this.outputs.set(stream.name, output);
    output.start();
  }

  private transcodeFor(
    stream: StreamConfig,
    feed: Feed,
    output: ConstructorParameters<typeof Transcode>[0]['output'],
    log: Logger,
    hooks: { onProcessStart?: () => void; onStdout?: (chunk: Buffer) => void } = {},
  ): Transcode {
    const { path: ffmpegPath, features: ffmpegFeatures } = this.deps.ffmpeg;
    return new Transcode({ stream, feed, output, ffmpegPath, ffmpegFeatures, startQueue: this.startQueue, log, ...hooks });
  }

  private sweep(): void {
    const now = Date.now();
    for (const output of this.outputs.values()) output.sweep(now);
  }
}

/** Compares two config objects ignoring the line they were declared on. */
function sameExceptLine(a: object, b: object): boolean {
  const strip = (value: object): string => JSON.stringify({ ...value, line: 0 });
  return strip(a) === strip(b);
}
