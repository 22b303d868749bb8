import PQueue from 'p-queue';
import type { AdapterRegistry } from '../../adapters/registry.ts';
import type { CameraConfig, RelayConfig, StreamConfig } from '../../conf/types.ts';
import { PushGateway } from '../../adapters/push/gateway.ts';
import { ObjectStores } from '../storage/stores.ts';
import { Admission } from '../core/admission.ts';
import type { EdgeConsumer, EdgeStreamStats } from '../core/edge.ts';
import { Feed } from '../core/feed.ts';
import type { FfmpegInfo } from '../encoders/ffmpeg-locate.ts';
import type { Logger } from '../../lib/log.ts';
import type { EventSink } from '../../lib/event-bus.ts';
import type { SharedEncoder } from '../encoders/shared-encoder.ts';
import type { AacAudio } from '../encoders/aac-audio.ts';
import type { OpusAudio } from '../encoders/opus-audio.ts';
import type { H264Source } from '../../media/types.ts';
import type { EncoderSettings } from '../encoders/ffmpeg-args.ts';
import type { StreamOutput } from '../outputs/output.ts';
import type { CameraMedia, OutputRegistry, ProtocolEnv, ProtocolMount, ProtocolServer } from '../outputs/registry.ts';
import type { HttpHooks } from '../http/protocol-hooks.ts';
import { AccessControl } from '../auth/access.ts';
import { ControlHub } from '../control/hub.ts';
import type { AlertsStatus } from '../events/alerts.ts';
import { ProcessSlots } from '../../lib/process-slots.ts';
import { sameExceptLine } from '../../conf/same.ts';
import { ConfigError, type ConfigProblem } from '../../conf/parse.ts';
import { startedNameCollision } from './started-collision.ts';
import { cameraChanges } from './camera-changes.ts';
import { CameraParts, type CameraPartFactory, type EncoderEntry } from './camera-parts.ts';

/** How many camera connections and ffmpeg starts may be under way at once. */
const START_CONCURRENCY = 8;
const SWEEP_INTERVAL_MS = 1000;

export interface RelayDeps {
  readonly ffmpeg: FfmpegInfo;
  readonly adapters: AdapterRegistry;
  /** The output protocols (relay/app/output-protocols.ts): what each Stream Format mounts, the servers beside HTTP. */
  readonly outputs: OutputRegistry;
  /** Builds encoders and JPEG views (relay/app/camera-part-factory.ts). */
  readonly parts: CameraPartFactory;
  readonly log: Logger;
  /** Where state changes go (webhooks, OnEventExec); none in tests that do not ask. */
  readonly events?: EventSink;
}

/** A served stream and what serves it beside its own format (its RTSP mount, ...): the outputs level of the tree. */
interface MountedStream {
  readonly output: StreamOutput;
  readonly camera: CameraParts;
  readonly mounts: Map<ProtocolServer, ProtocolMount>;
}

/**
 * The running relay, as a tree: cameras (feed, encoders, JPEG view) → their streams' outputs → the protocol mounts
 * of each stream. Built from a config and rebuilt piecewise on reload; each close goes down to the children. The
 * HTTP edge (relay/app/server.ts) reads from it; it never touches sockets itself.
 */
export class Relay {
  readonly feeds = new Map<string, Feed>();
  readonly outputs = new Map<string, StreamOutput>();
  /** One encoder per distinct video setting of a camera, keyed by camera and settings, with who uses it. */
  readonly encoders = new Map<string, EncoderEntry>();
  readonly startQueue = new PQueue({ concurrency: START_CONCURRENCY });
  readonly processSlots: ProcessSlots;
  readonly startedAt = Date.now();
  /** Servers of output protocols beside HTTP (the RTSP server): every stream is offered to each. */
  readonly edges = new Set<ProtocolServer>();
  admission: Admission;
  /** Push cameras' publishers: keys, utilization ids, RTP port pairs (used by adapters and the /api/source gateway). */
  readonly push: PushGateway;
  /** What the operator should act on (exposure without credentials, a change that needs a restart), for /stat.html. */
  notices: readonly string[] = [];
  /** The deliveries of state changes to webhooks and OnEventExec, for /stat.json; none in tests that do not ask. */
  alerts: { status(): AlertsStatus } | undefined;
  /** The configured buckets (<Storage> blocks), for vod-live://s3/, /vod/s3/ and the recording archive. */
  readonly objectStores: ObjectStores;
  /** Cameras started at run time (files played through /api/vod/): reloads leave them and their streams alone. */
  readonly runtimeCameras = new Set<string>();
  private readonly cameras = new Map<string, CameraParts>();
  private readonly streams = new Map<string, MountedStream>();
  private sweepTimer: NodeJS.Timeout | undefined;
  private readonly stopController = new AbortController();
  /** Reloads run one at a time, in order: two overlapping reloads must not both add the same encoder or output. */
  private reloads: Promise<unknown> = Promise.resolve();
  private encoderSerial = 0;
  /** Admin and viewer authorisation, shared by the HTTP edge, the protocol servers and /metrics. */
  readonly access: AccessControl;
  /** The cameras' PTZ controllers (Control directives), built on first use and closed when the relay stops. */
  readonly control: ControlHub;

  constructor(
    public config: RelayConfig,
    readonly deps: RelayDeps,
  ) {
    this.admission = this.admissionFor(config);
    this.access = new AccessControl(() => this.config, deps.log.child('auth'));
    this.control = new ControlHub(() => this.config, deps.log);
    this.processSlots = new ProcessSlots(config.maxProcesses);
    this.push = new PushGateway(() => this.config, deps.log.child('push'));
    this.objectStores = new ObjectStores(config.storages);
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

  /**
   * Starts the servers of the output protocols that have one (RTSP when RTSPPort is set) and offers them every
   * stream; streams added later are offered as they start. One that cannot start stops the others and throws.
   */
  async startProtocolServers(http: HttpHooks): Promise<void> {
    const env: ProtocolEnv = {
      config: () => this.config,
      log: this.deps.log,
      admit: (name) => {
        const output = this.outputs.get(name);
        return output && this.admission.check(output);
      },
      output: (name) => this.outputs.get(name),
      http,
      access: this,
    };
    for (const server of await this.deps.outputs.startServers(env)) {
      this.edges.add(server);
      for (const stream of this.streams.values()) this.mountOn(server, stream);
    }
  }

  /** The server of an output protocol beside HTTP, by protocol name (e.g. `rtsp`), while it runs. */
  protocolServer(protocol: string): ProtocolServer | undefined {
    return [...this.edges].find((server) => server.protocol === protocol);
  }

  /** Stops every protocol server and ends its viewers. Safe twice. */
  async closeProtocolServers(): Promise<void> {
    await Promise.all([...this.edges].map((server) => server.close()));
    this.edges.clear();
  }

  /** Stops every protocol server, output and camera; ffmpeg children get stdin EOF, then SIGKILL after a grace period. Safe twice. */
  async stop(): Promise<void> {
    this.stopController.abort();
    clearInterval(this.sweepTimer);
    await this.control.close();
    await this.closeProtocolServers();
    await Promise.all([...this.outputs.keys()].map((name) => this.removeOutput(name)));
    await Promise.all([...this.cameras.values()].map((camera) => camera.close()));
    this.push.close();
    this.objectStores.close();
    this.cameras.clear();
    this.feeds.clear();
    this.startQueue.clear();
  }

  /**
   * Applies a new config: removed or changed cameras and streams stop, new or changed ones start, unchanged ones keep
   * running with their viewers connected. HTTP port and bind address changes need a restart.
   */
  reload(next: RelayConfig): Promise<{ added: string[]; removed: string[]; kept: string[] }> {
    return this.inReloadOrder(() => this.applyReload(next));
  }

  /**
   * Why `next` cannot be applied while the streams started at run time hold names it configures, or undefined.
   * Such a block would be skipped while its Access applied to the started stream, so the reload is refused instead.
   */
  reloadCollision(next: RelayConfig): ConfigProblem | undefined {
    return startedNameCollision(next, this.runtimeCameras, this.startedStreams());
  }

  /** The streams of the cameras started at run time (the VOD API), which the access classifier treats like configured ones. */
  startedStreams(): StreamConfig[] {
    const started: StreamConfig[] = [];
    for (const output of this.outputs.values()) if (this.runtimeCameras.has(output.feed.camera.name)) started.push(output.config);
    return started;
  }

  private async applyReload(next: RelayConfig): Promise<{ added: string[]; removed: string[]; kept: string[] }> {
    const collision = this.reloadCollision(next);
    if (collision) throw new ConfigError([collision]);
    const { restart: changedCameras, retuned } = cameraChanges(this.config.cameras, next.cameras);
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
    for (const name of [...this.cameras.keys()]) {
      if (this.runtimeCameras.has(name)) continue;
      if (!next.cameras.some((camera) => camera.name === name) || changedCameras.has(name)) {
        await this.closeCamera(name);
        removed.push(`camera ${name}`);
      }
    }
    this.config = next;
    this.objectStores.sync(next.storages);
    this.admission = this.admissionFor(next);
    for (const camera of next.cameras) {
      if (!this.feeds.has(camera.name)) {
        this.addFeed(camera);
        added.push(`camera ${camera.name}`);
      }
    }
    for (const stream of next.streams) {
      if (!stream.feed) continue;
      if (this.outputs.has(stream.name)) kept.push(stream.name);
      else {
        await this.addOutput(stream);
        added.push(stream.name);
      }
    }
    const runningOn = retuned.length > 0 ? ` (${retuned.map((name) => `camera ${name}`).join(', ')} running on, with new recording or control settings)` : '';
    this.deps.log.info(`reloaded: added ${added.join(', ') || 'nothing'}; removed ${removed.join(', ') || 'nothing'}; kept ${kept.length}${runningOn}`);
    return { added, removed, kept };
  }

  /**
   * The shared encoder of a camera at the given settings, created (and started, for an always-on camera) on first
   * use. `user` names who uses it (a stream, the recorder); releaseEncoder(user) stops it when nobody is left.
   */
  encoderFor(cameraName: string, settings: EncoderSettings, user: string): SharedEncoder {
    const camera = this.cameras.get(cameraName);
    if (!camera) throw new Error(`no camera ${cameraName}`);
    return camera.encoder(settings, user);
  }

  /** The camera's sound as AAC, shared with its streams; `user` holds it until releaseEncoder(user). */
  audioFor(cameraName: string, user: string): AacAudio {
    const camera = this.cameras.get(cameraName);
    if (!camera) throw new Error(`no camera ${cameraName}`);
    return camera.audio(user);
  }

  /** Each camera's sound part (copy or converter) and the streams that carry it, for status. */
  audioParts(): Array<{ readonly camera: string; readonly audio: AacAudio; readonly users: ReadonlySet<string> }> {
    return [...this.cameras.values()].flatMap((camera) => (camera.audioPart ? [{ camera: camera.name, ...camera.audioPart }] : []));
  }

  /** Each camera's Opus part (for WebRTC) and the streams that may send it, for status. */
  opusParts(): Array<{ readonly camera: string; readonly opus: OpusAudio; readonly users: ReadonlySet<string> }> {
    return [...this.cameras.values()].flatMap((camera) => (camera.opusPart ? [{ camera: camera.name, ...camera.opusPart }] : []));
  }

  /** Drops `user` from every encoder it used but `keep`; an encoder nobody uses any more is closed. */
  async releaseEncoder(user: string, keep?: H264Source): Promise<void> {
    for (const camera of this.cameras.values()) await camera.release(user, keep);
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
      await this.closeCamera(name);
      return true;
    });
  }

  /** The output whose other resources live under `prefix/` (an HLS stream's segments), for /PREFIX/NAME requests. */
  outputByResourcePrefix(prefix: string): StreamOutput | undefined {
    for (const output of this.outputs.values()) if (output.resourcePrefix === `${prefix}/`) return output;
    return undefined;
  }

  /** A stream's figures on each protocol server that serves it (e.g. `rtsp`: readers by transport), for /stat.json. */
  protocolStats(stream: string): Record<string, EdgeStreamStats> {
    const byProtocol: Record<string, EdgeStreamStats> = {};
    for (const [server, mount] of this.streams.get(stream)?.mounts ?? []) {
      const stats = mount.stats();
      if (stats) byProtocol[server.protocol] = stats;
    }
    return byProtocol;
  }

  /** A stream's consumers on protocol servers beside HTTP, counted by admission against the same limits. */
  protocolViewers(stream: string): number {
    let viewers = 0;
    for (const mount of this.streams.get(stream)?.mounts.values() ?? []) viewers += mount.stats()?.viewers ?? 0;
    return viewers;
  }

  /** Up to `max` of a stream's consumers on protocol servers beside HTTP, for the status page. */
  protocolConsumers(stream: string, max: number): EdgeConsumer[] {
    const out: EdgeConsumer[] = [];
    for (const mount of this.streams.get(stream)?.mounts.values() ?? []) {
      if (out.length >= max) break;
      out.push(...mount.consumers(max - out.length));
    }
    return out;
  }

  /** Runs a change of cameras and streams after the reloads and changes before it, never alongside them. */
  private inReloadOrder<T>(change: () => Promise<T>): Promise<T> {
    const run = this.reloads.then(change);
    this.reloads = run.catch(() => {});
    return run;
  }

  private admissionFor(config: RelayConfig): Admission {
    return new Admission(config, () => this.outputs.values(), (name) => this.protocolViewers(name));
  }

  private addFeed(camera: CameraConfig): void {
    const { adapters, ffmpeg, log, parts } = this.deps;
    const feed = new Feed({
      camera,
      createAdapter: () => adapters.create(camera, { ffmpegPath: ffmpeg.path, processSlots: this.processSlots, push: this.push, mediaPath: this.config.mediaPath, objectStores: this.objectStores }),
      startQueue: this.startQueue,
      log: log.child(`camera ${camera.name}`),
      events: this.deps.events,
      failedAfterMs: this.config.events?.failedAfterMs,
    });
    const env = { startQueue: this.startQueue, processSlots: this.processSlots, log, events: this.deps.events };
    this.cameras.set(camera.name, new CameraParts(feed, parts, env, this.encoders, () => `${camera.name}#${++this.encoderSerial}`));
    this.feeds.set(camera.name, feed);
    feed.start();
  }

  private async addOutput(stream: StreamConfig): Promise<void> {
    if (!stream.feed) return;
    // A name already served is closed first: a live output is never overwritten without its viewers being ended.
    if (this.outputs.has(stream.name)) await this.removeOutput(stream.name);
    const camera = this.cameras.get(stream.feed)!;
    const output = this.deps.outputs.mount(stream, mediaFor(camera, stream.name));
    const mounted: MountedStream = { output, camera, mounts: new Map() };
    this.outputs.set(stream.name, output);
    this.streams.set(stream.name, mounted);
    output.start();
    for (const server of this.edges) this.mountOn(server, mounted);
  }

  private mountOn(server: ProtocolServer, stream: MountedStream): void {
    const { output, camera } = stream;
    const mount = server.mount(output, mediaFor(camera, output.config.name));
    if (mount) stream.mounts.set(server, mount);
  }

  /** Closes a camera and everything built on it: its streams (and their mounts), its JPEG view, its encoders, its feed. */
  private async closeCamera(name: string): Promise<void> {
    for (const [streamName, output] of this.outputs) if (output.feed.camera.name === name) await this.removeOutput(streamName);
    await this.cameras.get(name)?.close();
    this.cameras.delete(name);
    this.feeds.delete(name);
  }

  /** Unmounts a stream from the protocol servers, closes its output and lets go of what it held of its camera. */
  private async removeOutput(name: string): Promise<void> {
    const stream = this.streams.get(name);
    if (!stream) return;
    this.streams.delete(name);
    this.outputs.delete(name);
    for (const mount of stream.mounts.values()) mount.unmount();
    await stream.output.close();
    await stream.camera.release(name);
  }

  private sweep(): void {
    const now = Date.now();
    for (const output of this.outputs.values()) output.sweep(now);
  }
}

/** What a stream (and its protocol mounts) may take from its camera, held in the stream's name. */
function mediaFor(camera: CameraParts, stream: string): CameraMedia {
  return { feed: camera.feed, encoder: (settings) => camera.encoder(settings, stream), jpegView: () => camera.jpegView(), audio: () => camera.audio(stream), opus: () => camera.opus(stream) };
}
