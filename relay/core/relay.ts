import PQueue from 'p-queue';
import type { AdapterRegistry } from '../../adapters/registry.ts';
import type { CameraConfig, RelayConfig, StreamConfig } from '../../conf/types.ts';
import { PushHub } from '../../adapters/push/hub.ts';
import { Admission } from './admission.ts';
import { edgeViewers, type ConsumerEdge } from './edge.ts';
import { Feed } from './feed.ts';
import type { FfmpegInfo } from '../encoders/ffmpeg-locate.ts';
import type { Logger } from '../../lib/log.ts';
import type { EventSink } from '../../lib/event-bus.ts';
import { CopyEncoder } from '../encoders/copy-encoder.ts';
import { FfmpegEncoder } from '../encoders/ffmpeg-encoder.ts';
import { JpegView } from '../encoders/jpeg-view.ts';
import type { SharedEncoder } from '../encoders/shared-encoder.ts';
import { encoderSettings, settingsKey, type EncoderSettings } from '../encoders/ffmpeg-args.ts';
import { FlvOutput } from '../outputs/flv.ts';
import { HlsOutput, hlsSegmentPrefix } from '../outputs/hls.ts';
import { JpegOutput } from '../outputs/jpeg.ts';
import { MjpegOutput } from '../outputs/mjpeg.ts';
import type { StreamOutput } from '../outputs/output.ts';
import { ProcessSlots } from '../../lib/process-slots.ts';
import { sameExceptLine } from '../../conf/same.ts';
import { ConfigError, type ConfigProblem } from '../../conf/parse.ts';

/** How many camera connections and ffmpeg starts may be under way at once. */
const START_CONCURRENCY = 8;
const SWEEP_INTERVAL_MS = 1000;

export interface RelayDeps {
  readonly ffmpeg: FfmpegInfo;
  readonly adapters: AdapterRegistry;
  readonly log: Logger;
  /** Where state changes go (webhooks, OnEventExec); none in tests that do not ask. */
  readonly events?: EventSink;
}

/**
 * The running relay: one Feed per camera and one output per Stream, built from a config and rebuilt piecewise on
 * reload. The HTTP edge (server.ts) reads from it; it never touches sockets itself.
 */
export class Relay {
  readonly feeds = new Map<string, Feed>();
  readonly outputs = new Map<string, StreamOutput>();
  /** One encoder per distinct video setting of a camera, keyed by camera and settings, with who uses it. */
  readonly encoders = new Map<string, { encoder: SharedEncoder; users: Set<string> }>();
  /** Each camera as JPEG frames, for its MJPEG and JPEG streams (created with the first such stream). */
  readonly jpegViews = new Map<string, JpegView>();
  readonly startQueue = new PQueue({ concurrency: START_CONCURRENCY });
  readonly processSlots: ProcessSlots;
  readonly startedAt = Date.now();
  /** Edges serving streams beside HTTP (the RTSP server): admission counts their consumers, status shows them. */
  readonly edges = new Set<ConsumerEdge>();
  admission: Admission;
  /** Push cameras' publishers: keys, utilization ids, RTP port pairs (used by adapters and the /api/source gateway). */
  readonly push: PushHub;
  /** What the operator should act on (exposure without credentials, a change that needs a restart), for /stat.html. */
  notices: readonly string[] = [];
  /** Cameras started at run time (files played through /api/vod/): reloads leave them and their streams alone. */
  readonly runtimeCameras = new Set<string>();
  private sweepTimer: NodeJS.Timeout | undefined;
  private readonly stopController = new AbortController();
  /** Reloads run one at a time, in order: two overlapping reloads must not both add the same encoder or output. */
  private reloads: Promise<unknown> = Promise.resolve();
  private encoderSerial = 0;

  constructor(
    public config: RelayConfig,
    readonly deps: RelayDeps,
  ) {
    this.admission = new Admission(config, () => this.outputs.values(), (name) => edgeViewers(this.edges, name));
    this.processSlots = new ProcessSlots(config.maxProcesses);
    this.push = new PushHub(() => this.config, deps.log.child('push'));
  }

  async start(): Promise<void> {
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
    await Promise.all([...this.encoders.values()].map(({ encoder }) => encoder.close()));
    await Promise.all([...this.jpegViews.values()].map((view) => view.close()));
    await Promise.all([...this.feeds.values()].map((feed) => feed.close()));
    this.push.close();
    this.outputs.clear();
    this.encoders.clear();
    this.jpegViews.clear();
    this.feeds.clear();
    this.startQueue.clear();
  }

  /**
   * Applies a new config: removed or changed cameras and streams stop, new or changed ones start, unchanged ones keep
   * running with their viewers connected. HTTP port and bind address changes need a restart.
   */
  reload(next: RelayConfig): Promise<{ added: string[]; removed: string[]; kept: string[] }> {
    const run = this.reloads.then(() => this.applyReload(next));
    this.reloads = run.catch(() => {});
    return run;
  }

  /**
   * Why `next` cannot be applied while the streams started at run time hold names it configures, or undefined.
   * Such a block would be skipped while its Access applied to the started stream, so the reload is refused instead.
   */
  reloadCollision(next: RelayConfig): ConfigProblem | undefined {
    const held = new Map<string, string>();
    for (const camera of this.runtimeCameras) held.set(camera.toLowerCase(), camera);
    for (const stream of this.startedStreams()) held.set(stream.name.toLowerCase(), stream.feed ?? stream.name);
    const blocks = [...next.cameras, ...next.streams, ...next.redirects].filter((block) => held.has(block.name.toLowerCase()));
    const first = blocks.sort((a, b) => a.line - b.line)[0];
    if (!first) return undefined;
    const owners = [...new Set(blocks.map((block) => held.get(block.name.toLowerCase())!))];
    return {
      file: next.file,
      line: first.line,
      message: `${blocks.map((block) => block.name).join(', ')}: held by stream(s) started through /api/vod/ (${owners.join(', ')}); terminate them or rename the block(s); the running config is kept`,
    };
  }

  /** The streams of the cameras started at run time (the VOD API), which the access classifier treats like configured ones. */
  startedStreams(): StreamConfig[] {
    const started: StreamConfig[] = [];
    for (const output of this.outputs.values()) if (this.runtimeCameras.has(output.feed.camera.name)) started.push(output.config);
    return started;
  }

  private async applyReload(next: RelayConfig): Promise<{ added: string[]; removed: string[]; kept: string[] }> {
    const log = this.deps.log;
    const collision = this.reloadCollision(next);
    if (collision) throw new ConfigError([collision]);
    const changedCameras = new Set<string>();
    for (const camera of next.cameras) {
      const old = this.config.cameras.find((candidate) => candidate.name === camera.name);
      if (!old || !sameExceptLine(old, camera)) changedCameras.add(camera.name);
    }
    const removed: string[] = [];
    const added: string[] = [];
    const kept: string[] = [];
    for (const [name, output] of this.outputs) {
      if (this.runtimeCameras.has(output.feed.camera.name)) continue;
      const wanted = next.streams.find((stream) => stream.name === name);
      if (!wanted || !sameExceptLine(wanted, output.config) || changedCameras.has(wanted.feed ?? '')) {
        await this.removeOutput(name);
        removed.push(name);
      }
    }
    for (const [name, feed] of this.feeds) {
      if (this.runtimeCameras.has(name)) continue;
      if (!next.cameras.some((camera) => camera.name === name) || changedCameras.has(name)) {
        await this.closeCamera(name, feed);
        removed.push(`camera ${name}`);
      }
    }
    this.config = next;
    this.admission = new Admission(next, () => this.outputs.values(), (name) => edgeViewers(this.edges, name));
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

  /**
   * The shared encoder of a camera at the given settings, created (and started, for an always-on camera) on first
   * use. `user` names who uses it (a stream, the recorder); releaseEncoder(user) stops it when nobody is left.
   */
  encoderFor(cameraName: string, settings: EncoderSettings, user: string): SharedEncoder {
    const feed = this.feeds.get(cameraName);
    if (!feed) throw new Error(`no camera ${cameraName}`);
    const key = `${cameraName} ${settingsKey(settings)}`;
    let entry = this.encoders.get(key);
    if (!entry) {
      const id = `${cameraName}#${++this.encoderSerial}`;
      const log = this.deps.log.child(`encoder ${id}`);
      const { path: ffmpegPath, features: ffmpegFeatures } = this.deps.ffmpeg;
      const encoder = settings.codec === 'copy'
        ? new CopyEncoder(id, settings, feed, log)
        : new FfmpegEncoder({ id, settings, feed, ffmpegPath, ffmpegFeatures, startQueue: this.startQueue, processSlots: this.processSlots, log, events: this.streamEvents(key, id) });
      entry = { encoder, users: new Set() };
      this.encoders.set(key, entry);
      encoder.start();
    }
    entry.users.add(user);
    return entry.encoder;
  }

  /** An encoder's state changes told as changes of the streams that use it (named in the subject). */
  private streamEvents(key: string, id: string): EventSink {
    return { emit: (type, _subject, message) => this.deps.events?.emit(type, [...(this.encoders.get(key)?.users ?? [id])].sort().join(', '), `encoder ${id}: ${message}`) };
  }

  /** Drops `user` from every encoder it used; an encoder nobody uses any more is closed. */
  async releaseEncoder(user: string): Promise<void> {
    for (const [key, entry] of this.encoders) {
      if (!entry.users.delete(user) || entry.users.size > 0) continue;
      this.encoders.delete(key);
      await entry.encoder.close();
    }
  }

  /** Starts a camera and its streams that the config does not declare (the VOD API); reloads keep them. */
  addRuntimeCamera(camera: CameraConfig, streams: readonly StreamConfig[]): Promise<void> {
    return this.inReloadOrder(async () => {
      this.runtimeCameras.add(camera.name);
      this.addFeed(camera);
      for (const stream of streams) await this.addOutput(stream);
    });
  }

  /** Stops a camera added by addRuntimeCamera and its streams, ending their viewers; false if there is none. */
  removeRuntimeCamera(name: string): Promise<boolean> {
    return this.inReloadOrder(async () => {
      if (!this.runtimeCameras.delete(name)) return false;
      for (const [streamName, output] of this.outputs) {
        if (output.feed.camera.name !== name) continue;
        await this.removeOutput(streamName);
      }
      const feed = this.feeds.get(name);
      if (feed) await this.closeCamera(name, feed);
      return true;
    });
  }

  /** Runs a change of cameras and streams after the reloads and changes before it, never alongside them. */
  private inReloadOrder<T>(change: () => Promise<T>): Promise<T> {
    const run = this.reloads.then(change);
    this.reloads = run.catch(() => {});
    return run;
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
      createAdapter: () => adapters.create(camera, { ffmpegPath: ffmpeg.path, processSlots: this.processSlots, push: this.push, mediaPath: this.config.mediaPath }),
      startQueue: this.startQueue,
      log: log.child(`camera ${camera.name}`),
      events: this.deps.events,
      failedAfterMs: this.config.events?.failedAfterMs,
    });
    this.feeds.set(camera.name, feed);
    feed.start();
  }

  private async addOutput(stream: StreamConfig): Promise<void> {
    if (stream.format === 'status' || !stream.feed) return;
    // A name already served is closed first: a live output is never overwritten without its viewers being ended.
    if (this.outputs.has(stream.name)) await this.removeOutput(stream.name);
    const feed = this.feeds.get(stream.feed)!;
    let output: StreamOutput;
    if (stream.format === 'flv') {
      output = new FlvOutput(stream, feed, this.encoderFor(feed.camera.name, encoderSettings(stream), stream.name));
    } else if (stream.format === 'hls') {
      const video = this.encoderFor(feed.camera.name, encoderSettings(stream), stream.name);
      output = new HlsOutput(stream, feed, video);
    } else if (stream.format === 'mpjpeg') output = new MjpegOutput(stream, feed, this.jpegViewFor(feed));
    else output = new JpegOutput(stream, feed, this.jpegViewFor(feed));
    this.outputs.set(stream.name, output);
    output.start();
  }

  /** Closes a camera and everything built on it (its JPEG view, any encoder still held by a non-stream user). */
  private async closeCamera(name: string, feed: Feed): Promise<void> {
    await this.jpegViews.get(name)?.close();
    this.jpegViews.delete(name);
    for (const [key, entry] of this.encoders) {
      if (entry.encoder.id.split('#')[0] !== name) continue;
      this.encoders.delete(key);
      await entry.encoder.close();
    }
    await feed.close();
    this.feeds.delete(name);
  }

  /** The camera as JPEGs: its own, or decoded once from its video while an MJPEG or JPEG stream is watched. */
  jpegViewFor(feed: Feed): JpegView {
    let view = this.jpegViews.get(feed.camera.name);
    if (!view) {
      const options = { ffmpegPath: this.deps.ffmpeg.path, startQueue: this.startQueue, processSlots: this.processSlots, log: this.deps.log.child(`jpeg ${feed.camera.name}`) };
      view = new JpegView(feed, options);
      this.jpegViews.set(feed.camera.name, view);
      view.start();
    }
    return view;
  }

  private async removeOutput(name: string): Promise<void> {
    const output = this.outputs.get(name);
    if (!output) return;
    this.outputs.delete(name);
    await output.close();
    await this.releaseEncoder(name);
  }

  private sweep(): void {
    const now = Date.now();
    for (const output of this.outputs.values()) output.sweep(now);
  }
}
