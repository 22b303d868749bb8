import { reservedNameProblem } from '../../conf/build.ts';
import type { Access } from '../../conf/security.ts';
import { buildStartedCamera, type BlockValues } from '../../conf/started.ts';
import { parseVodLiveSource } from '../../adapters/vod-live/adapter.ts';
import type { CameraConfig, RelayConfig, StreamConfig } from '../../conf/types.ts';
import type { Logger } from '../../lib/log.ts';
import type { Feed } from '../core/feed.ts';
import { VodError } from '../../media/file/errors.ts';
import { checkName, resolveMediaFile } from '../../media/file/path.ts';
import { probeMediaFile, type MediaInfo } from '../../media/file/probe.ts';
import { findS3Object, isS3Name, probeS3Object } from '../../media/file/s3-object.ts';
import type { ObjectStore } from '../../lib/object-store.ts';

/** Streams started through the API at once; more is refused until one is terminated. */
export const MAX_RUNTIME_STREAMS = 64;
/** localStreamName: a camera name that leaves room for the stream suffixes. */
const STREAM_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
/** A vod-live:// URI: URL characters only (no spaces, quotes or '#', which relay.conf syntax would read). */
const VOD_LIVE_URI = /^vod-live:\/\/[A-Za-z0-9._~!$&'()*+,;=:@%/?-]{1,1024}$/;

/** What started streams need of the running relay: names in use, their camera and viewers, and adding and removing a camera. */
export interface StartedStreamHost {
  readonly config: RelayConfig;
  readonly deps: { readonly log: Logger; readonly ffmpeg: { readonly path: string }; readonly adapters: { readonly schemes: readonly string[] } };
  readonly feeds: ReadonlyMap<string, Feed>;
  readonly outputs: ReadonlyMap<string, { readonly feed: Feed; readonly viewerCount: number }>;
  /** The configured buckets, for vod-live://s3/STORAGE/KEY. */
  readonly objectStores: ReadonlyMap<string, ObjectStore>;
  addRuntimeCamera(camera: CameraConfig, streams: readonly StreamConfig[]): Promise<void>;
  removeRuntimeCamera(name: string): Promise<boolean>;
}

/** What the API says about a started stream. */
export interface VodStreamRecord {
  localStreamName: string;
  uri: string;
  loop: boolean;
  /** Who may watch: its own Access, else DefaultAccess at the time of asking. */
  access: Access;
  /** The camera's state: idle (nobody watching), starting, live, waiting (Loop no, file ended), retrying. */
  state: string;
  viewers: number;
  startedAt: string;
  /** Seconds into the file of the newest frame, null before the first frame. */
  position: number | null;
  hasVideo: boolean;
  hasAudio: boolean;
  lastError: string | null;
  /** Where it is served. */
  urls: { flv: string; hls: string; player: string; mjpeg: string; jpeg: string };
}

interface RuntimeStream {
  readonly name: string;
  readonly uri: string;
  readonly loop: boolean;
  readonly startedAt: number;
  readonly info: MediaInfo;
  readonly access: Access | undefined;
}

/**
 * The vod-live streams started at run time: each is a camera (its Source the file) with FLV, HLS, MJPEG and JPEG
 * streams, added to the Relay beside the configured ones. Startups run one at a time so two
 * requests for one name cannot both win.
 */
export class VodStreams {
  private readonly started = new Map<string, RuntimeStream>();
  private serial: Promise<unknown> = Promise.resolve();

  constructor(private readonly relay: StartedStreamHost) {}

  /** Starts a stream; `access` is its own Access, else (undefined) it follows DefaultAccess as the config changes. */
  startup(uri: string, name: string, loop: boolean, access?: Access): Promise<VodStreamRecord> {
    const run = this.serial.then(() => this.startupNow(uri, name, loop, access));
    this.serial = run.catch(() => undefined);
    return run;
  }

  find(name: string): VodStreamRecord {
    const stream = this.started.get(name);
    if (!stream) throw new VodError('STREAM_NOT_FOUND', 'No such stream');
    return this.record(stream);
  }

  findAll(): VodStreamRecord[] {
    if (this.started.size === 0) throw new VodError('STREAM_NOT_FOUND', 'No streams are running');
    return [...this.started.values()].map((stream) => this.record(stream));
  }

  /** Stops a started stream; its viewers' responses end. */
  async terminate(name: string): Promise<VodStreamRecord> {
    const stream = this.started.get(name);
    if (!stream) throw new VodError('STREAM_NOT_FOUND', 'No such stream');
    const record = this.record(stream);
    this.started.delete(name);
    await this.relay.removeRuntimeCamera(name);
    this.relay.deps.log.info(`vod-live stream ${name} terminated`);
    return { ...record, state: 'stopped', viewers: 0 };
  }

  private async startupNow(uri: string, name: string, loop: boolean, access: Access | undefined): Promise<VodStreamRecord> {
    if (!STREAM_NAME.test(name)) throw new VodError('BAD_REQUEST', 'localStreamName: 1 to 64 letters, digits, "_" or "-"');
    if (!VOD_LIVE_URI.test(uri)) throw new VodError('BAD_REQUEST', 'uri: a vod-live:// URI such as vod-live://movie.mp4');
    if (this.nameTaken(name)) throw new VodError('NAME_TAKEN', 'A stream or camera with this name exists');
    // The HLS stream's segments are served under /NAME/: a name the relay's own URLs use is refused as the config would.
    if (reservedNameProblem(`${name}.m3u8`, 'hls') || reservedNameProblem(`${name}.flv`, 'flv')) {
      throw new VodError('BAD_REQUEST', 'localStreamName: reserved for the relay\'s own pages and APIs');
    }
    if (access === 'token' && !this.relay.config.security.viewerTokenSecret) throw new VodError('BAD_REQUEST', 'access: token needs ViewerTokenSecret in the config');
    if (this.started.size >= MAX_RUNTIME_STREAMS) throw new VodError('TOO_MANY_STREAMS', `At most ${MAX_RUNTIME_STREAMS} streams can be started`);
    let source;
    try {
      source = parseVodLiveSource(uri);
    } catch (error) {
      throw new VodError('BAD_REQUEST', `uri: ${(error as Error).message}`);
    }
    checkName(source.file);
    const info = isS3Name(source.file)
      ? await probeS3Object(await findS3Object(this.relay.objectStores, source.file), this.relay.deps.ffmpeg.path)
      : await probeMediaFile((await resolveMediaFile(this.relay.config.mediaPath, source.file)).path, this.relay.deps.ffmpeg.path);
    let built;
    try {
      built = buildStartedCamera(this.relay.config, ...startedBlocks(name, uri, loop), this.relay.deps.adapters.schemes);
    } catch {
      throw new VodError('BAD_REQUEST', 'uri: not a usable vod-live:// URI');
    }
    // A started stream's Access is the one asked for, or none (it follows DefaultAccess as the config changes).
    const streams = built.streams.map((stream) => (access ? { ...stream, access } : stream));
    const stream: RuntimeStream = { name, uri, loop, startedAt: Date.now(), info, access };
    this.started.set(name, stream);
    await this.relay.addRuntimeCamera(built.camera, streams);
    this.relay.deps.log.info(`vod-live stream ${name} started from ${uri}`);
    return this.record(stream);
  }

  /** A name is taken by any camera, stream or redirect, configured or started, in any letter case. */
  private nameTaken(name: string): boolean {
    const lower = name.toLowerCase();
    const { config } = this.relay;
    const taken = [
      ...config.cameras.map((camera) => camera.name),
      ...config.streams.map((stream) => stream.name),
      ...config.redirects.map((redirect) => redirect.name),
      ...this.relay.feeds.keys(),
      ...this.relay.outputs.keys(),
    ].map((taken) => taken.toLowerCase());
    return taken.some((existing) => existing === lower || existing.startsWith(`${lower}.`));
  }

  private record(stream: RuntimeStream): VodStreamRecord {
    const feed = this.relay.feeds.get(stream.name);
    const outputs = [...this.relay.outputs.values()].filter((output) => output.feed === feed);
    const latest = feed?.latestFrame;
    const duration = stream.info.durationSeconds;
    const elapsed = latest ? latest.pts / 1000 : null;
    return {
      localStreamName: stream.name,
      uri: stream.uri,
      loop: stream.loop,
      access: stream.access ?? this.relay.config.security.defaultAccess,
      state: feed?.state ?? 'stopped',
      viewers: outputs.reduce((sum, output) => sum + output.viewerCount, 0),
      startedAt: new Date(stream.startedAt).toISOString(),
      position: elapsed === null ? null : Number((duration ? elapsed % duration : elapsed).toFixed(3)),
      hasVideo: stream.info.hasVideo,
      hasAudio: stream.info.hasAudio,
      lastError: feed?.status.lastError?.message ?? null,
      urls: {
        flv: `/${stream.name}.flv`,
        hls: `/${stream.name}.m3u8`,
        player: `/player/${stream.name}.m3u8`,
        mjpeg: `/${stream.name}.mjpg`,
        jpeg: `/${stream.name}.jpg`,
      },
    };
  }
}

/**
 * The camera and streams a started file is served as, as directive values: the config model (conf/) builds them
 * with every default and check a relay.conf block gets. One stream per format: FLV, HLS, MJPEG, JPEG.
 */
export function startedBlocks(name: string, uri: string, loop: boolean): [BlockValues, BlockValues[]] {
  const camera = { name, directives: { Source: uri, Loop: loop } };
  const streams = ['flv', 'm3u8', 'mjpg', 'jpg'].map((extension) => ({ name: `${name}.${extension}`, directives: { Feed: name } }));
  return [camera, streams];
}
