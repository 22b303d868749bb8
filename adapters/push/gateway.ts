import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import type { CameraConfig, RelayConfig } from '../../conf/types.ts';
import type { Logger } from '../../lib/log.ts';
import type { AdapterError } from '../errors.ts';
import type { AudioUnit } from '../types.ts';
import type { AudioTrack, VideoUnit } from '../../media/types.ts';
import { PushAudioStream } from './audio-stream.ts';
import { createAudioDepacketizer, type PushAudioCodec, type PushCodec } from './codecs.ts';
import { RtpPortPool, type PortPair } from './ports.ts';
import { PushSession, type PushEndReason } from './session.ts';
import { plainAddress } from '../../lib/address.ts';
import { assignSsrc } from './source-stream.ts';

/** A refusal with one of the source protocol's error codes; the gateway turns it into JSON and a status. */
export class PushError extends Error {
  override readonly name = 'PushError';
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

/** What a running push adapter hears from the gateway about its camera. */
export interface PushListener {
  /** True once the camera has taken a keyframe of the current stream and goes on from it. */
  readonly taking: boolean;
  onFrame(unit: VideoUnit): void;
  /** Sound of the stream, on the picture's timeline. */
  onAudio(unit: AudioUnit): void;
  /** The stream will carry sound of this track (start_stream asked for it). */
  onAudioAnnounced(track: AudioTrack): void;
  /** The camera's session ended: 'stopped' by the publisher, ended by an 'operator', or it failed (silence, protocol). */
  onSessionEnd(reason: PushEndReason, error?: AdapterError): void;
}

/** One utilization id: a publisher's claim on a camera, made with one of its keys. */
interface Utilization {
  readonly id: string;
  readonly camera: string;
  readonly keyDigest: Buffer;
  lastUsedAt: number;
  session: PushSession | undefined;
}

/** One push camera's current stream, for list_streams and /stat.json. */
export interface PushStreamInfo {
  readonly camera: string;
  readonly publisher: string;
  readonly codec: PushCodec;
  readonly rtpPort: number;
  readonly state: PushSession['state'];
  readonly since: number;
  readonly counters: PushSession['counters'];
}

/** The sound start_stream asks for: its codec, and AAC's AudioSpecificConfig. */
export interface PushAudioRequest {
  readonly codec: PushAudioCodec;
  readonly config?: Buffer;
}

/** What start_stream answers: the picture's ports and SSRC, and the sound's when asked for. */
export interface StartedStream {
  readonly rtpPort: number;
  readonly rtcpPort: number;
  readonly ssrc: number;
  readonly audio: { readonly rtpPort: number; readonly rtcpPort: number; readonly ssrc: number } | undefined;
}

/** Ids kept at most; the least recently used idle one goes first. */
const MAX_UTILIZATIONS = 4096;
/** An id unused this long, with no stream, is forgotten. */
const UTILIZATION_IDLE_MS = 60 * 60 * 1000;
/** End reasons that were the relay's doing, not the publisher's or an operator's. */
const RELAY_ENDED: ReadonlySet<PushEndReason> = new Set(['silent', 'protocol', 'closed']);

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/**
 * The relay's side of push ingest: which camera a key opens, utilization ids, port pairs, the live session of each
 * push camera, and the adapter of each camera waiting for frames. One per relay; /api/source and the push adapters share it.
 */
export class PushGateway {
  private readonly utilizations = new Map<string, Utilization>();
  private readonly listeners = new Map<string, PushListener>();
  private readonly pool: RtpPortPool;
  private closed = false;

  constructor(
    private readonly config: () => RelayConfig,
    private readonly log: Logger,
  ) {
    this.pool = new RtpPortPool(() => this.config().rtpPortRange);
  }

  /** Port pairs in use now. */
  get allocatedPairs(): number {
    return this.pool.allocated;
  }

  /** The push camera that `key` opens, comparing against every configured key in constant time. */
  cameraForKey(key: string): { camera: CameraConfig; keyDigest: Buffer } | undefined {
    const given = digest(key);
    let found: CameraConfig | undefined;
    for (const camera of this.config().cameras) {
      if (camera.scheme !== 'push') continue;
      for (const candidate of camera.publishKeys) {
        if (timingSafeEqual(given, digest(candidate)) && !found) found = camera;
      }
    }
    return found ? { camera: found, keyDigest: given } : undefined;
  }

  /** new_utilization_id: a fresh id bound to the key's camera. */
  newUtilization(key: string): string {
    const match = this.cameraForKey(key);
    if (!match) throw new PushError(4011, 'non valid API key');
    this.checkHasConsumers(match.camera);
    this.forgetIdle();
    const id = randomBytes(16).toString('hex');
    this.utilizations.set(id, { id, camera: match.camera.name, keyDigest: match.keyDigest, lastUsedAt: Date.now(), session: undefined });
    return id;
  }

  /**
   * start_stream: binds a random free port pair for the utilization's camera, taking datagrams from `address` only and
   * RTP with the SSRC it assigns here only (the publisher must send with it), so the stream is the handshake's alone.
   */
  async startStream(key: string, id: string, address: string, codec: PushCodec, audio?: PushAudioRequest): Promise<StartedStream> {
    const match = this.cameraForKey(key);
    if (!match) throw new PushError(4011, 'non valid API key');
    const utilization = this.utilization(id);
    if (utilization.camera !== match.camera.name) throw new PushError(4013, 'utilization identifier and API key not compatible');
    const camera = this.configuredCamera(utilization);
    this.checkHasConsumers(camera);
    if (utilization.session && utilization.session.state !== 'ended') throw new PushError(4091, 'stream already active');
    if (this.activeSession(camera.name)) throw new PushError(4091, `camera ${camera.name} already has an active stream`);
    const ports = await this.pool.allocate(this.bindAddress());
    if (ports === 'exhausted') throw new PushError(5031, 'no free RTP port pair in RTPPortRange');
    if (ports === 'unbindable') throw new PushError(5001, 'cannot initialize stream listener: no port pair of RTPPortRange could be bound');
    if (this.closed) {
      this.pool.release(ports);
      throw new PushError(5031, 'the relay is stopping');
    }
    const sound = audio ? await this.startAudio(ports, audio, address, camera) : undefined;
    const ssrc = assignSsrc();
    const session = new PushSession({
      ports,
      publisherAddress: address,
      codec,
      ssrc,
      maxFrameBytes: camera.maxFrameBytes,
      followSsrc: camera.followSsrc,
      timeoutMs: camera.timeoutMs,
      onFrame: (frame) => {
        const listener = this.listeners.get(camera.name);
        if (listener && !listener.taking && !frame.keyframe) session.askForKeyframe();
        listener?.onFrame(frame);
      },
      onEnd: (reason, error) => {
        this.logEnd(camera.name, session, reason);
        this.listeners.get(camera.name)?.onSessionEnd(reason, error);
      },
      release: (pair) => this.pool.release(pair),
      audio: sound?.stream,
      audioPorts: sound?.ports,
    });
    if (sound) this.listeners.get(camera.name)?.onAudioAnnounced(sound.stream.track);
    utilization.session = session;
    utilization.lastUsedAt = Date.now();
    const withSound = sound ? `, ${sound.stream.codec} audio on UDP ${sound.ports.rtpPort}/${sound.ports.rtpPort + 1}` : '';
    this.log.info(`camera ${camera.name}: publisher ${plainAddress(address)} starts ${codec} on UDP ${ports.rtpPort}/${ports.rtpPort + 1}${withSound}`);
    const audioAnswer = sound ? { rtpPort: sound.ports.rtpPort, rtcpPort: sound.ports.rtpPort + 1, ssrc: sound.ssrc } : undefined;
    return { rtpPort: ports.rtpPort, rtcpPort: ports.rtpPort + 1, ssrc, audio: audioAnswer };
  }

  /**
   * A second port pair and SSRC for the stream's sound. Its depacketizer is made first, so a bad AAC config is refused
   * (4151) before ports are bound; the video's pair is released if the sound's cannot be had.
   */
  private async startAudio(videoPorts: PortPair, request: PushAudioRequest, address: string, camera: CameraConfig): Promise<{ stream: PushAudioStream; ports: PortPair; ssrc: number }> {
    const depacketizer = () => createAudioDepacketizer(request.codec, request.config);
    try {
      depacketizer();
    } catch (error) {
      this.pool.release(videoPorts);
      throw new PushError(4151, `the audio of the stream is not supported: ${(error as Error).message}`);
    }
    const ports = await this.pool.allocate(this.bindAddress());
    if (typeof ports === 'string' || this.closed) {
      this.pool.release(videoPorts);
      if (typeof ports !== 'string') this.pool.release(ports);
      throw new PushError(ports === 'unbindable' ? 5001 : 5031, 'no free RTP port pair in RTPPortRange for the audio');
    }
    const ssrc = assignSsrc();
    const stream = new PushAudioStream({
      ports, publisher: plainAddress(address), ssrc, codec: request.codec, depacketizer, followSsrc: camera.followSsrc,
      onUnit: (unit) => this.listeners.get(camera.name)?.onAudio(unit),
    });
    return { stream, ports, ssrc };
  }

  /** validate_stream: the utilization's session, for the gateway to judge. */
  sessionOf(id: string): PushSession | undefined {
    const utilization = this.utilization(id);
    this.configuredCamera(utilization);
    return utilization.session;
  }

  /**
   * stop_stream: ends the utilization's stream and frees its ports. A stream the relay had already ended (silence past
   * Timeout, a protocol limit, a reload) cannot be stopped any more: 5005 says so, where 4092 means none was running.
   */
  stopStream(id: string): void {
    const utilization = this.utilization(id);
    const session = utilization.session;
    if (session?.state === 'ended' && session.endReason && RELAY_ENDED.has(session.endReason)) {
      throw new PushError(5005, `cannot stop the stream: the relay had already ended it (${session.endReason})`);
    }
    if (!session || session.state === 'ended') throw new PushError(4092, 'stream not running');
    this.endSession(utilization.camera, session, 'stopped');
  }

  /** An operator's stop_stream by camera name: ends whatever stream the camera has, whoever publishes it. */
  stopCameraStream(cameraName: string): void {
    const camera = this.config().cameras.find((candidate) => candidate.name === cameraName && candidate.scheme === 'push');
    if (!camera) throw new PushError(4012, `non valid utilization identifier: no push camera is named "${cameraName.slice(0, 64).replace(/[^\x20-\x7e]/g, '?')}"`);
    const active = this.activeSession(camera.name);
    if (!active) throw new PushError(4092, `stream not running: camera ${camera.name} has no publisher`);
    this.endSession(camera.name, active, 'operator');
  }

  /** Whether the camera has taken the current stream (its adapter runs and went on from a keyframe); for validate_stream. */
  cameraTaking(id: string): { camera: string; taking: 'taking' | 'waiting-for-keyframe' | 'not-running' } {
    const camera = this.utilization(id).camera;
    const listener = this.listeners.get(camera);
    return { camera, taking: !listener ? 'not-running' : listener.taking ? 'taking' : 'waiting-for-keyframe' };
  }

  /** Every push camera's current stream. */
  streams(): PushStreamInfo[] {
    const out: PushStreamInfo[] = [];
    for (const { camera, session } of this.utilizations.values()) {
      if (!session || session.state === 'ended') continue;
      out.push({ camera, publisher: session.publisher, codec: session.codec, rtpPort: session.rtpPort, state: session.state, since: session.startedAt, counters: session.counters });
    }
    return out;
  }

  /** A running push adapter takes its camera's frames; returns the function that lets go (and ends the stream). */
  attach(cameraName: string, listener: PushListener): () => void {
    this.listeners.set(cameraName, listener);
    // A camera (re)starting while a stream is under way goes on from a keyframe: ask for one rather than wait for it.
    this.activeSession(cameraName)?.askForKeyframe();
    return () => {
      if (this.listeners.get(cameraName) !== listener) return;
      this.listeners.delete(cameraName);
      for (const { camera, session } of this.utilizations.values()) {
        if (camera !== cameraName || !session || session.state === 'ended') continue;
        session.close('closed');
        this.logEnd(camera, session, 'closed');
      }
    };
  }

  /** Ends every session and frees every port; for relay shutdown. Safe to call twice. */
  close(): void {
    this.closed = true;
    for (const utilization of this.utilizations.values()) utilization.session?.close('closed');
    this.utilizations.clear();
    this.listeners.clear();
  }

  private activeSession(cameraName: string): PushSession | undefined {
    for (const { camera, session } of this.utilizations.values()) {
      if (camera === cameraName && session && session.state !== 'ended') return session;
    }
    return undefined;
  }

  private endSession(camera: string, session: PushSession, reason: 'stopped' | 'operator'): void {
    session.close(reason);
    this.logEnd(camera, session, reason);
    this.listeners.get(camera)?.onSessionEnd(reason);
  }

  /** A key whose camera feeds no Stream and no recording opens nothing: its video would go nowhere (4051). */
  private checkHasConsumers(camera: CameraConfig): void {
    const config = this.config();
    if (camera.record.enabled || config.streams.some((stream) => stream.feed === camera.name)) return;
    throw new PushError(4051, `unconfigured API key: camera ${camera.name} has no Stream and no recording to take its video`);
  }

  private utilization(id: string): Utilization {
    const utilization = this.utilizations.get(id);
    if (!utilization) throw new PushError(4012, 'non valid utilization identifier');
    utilization.lastUsedAt = Date.now();
    return utilization;
  }

  /** The utilization's camera as configured now; a reload may have removed the camera or the key it was made with. */
  private configuredCamera(utilization: Utilization): CameraConfig {
    const camera = this.config().cameras.find((candidate) => candidate.name === utilization.camera && candidate.scheme === 'push');
    const keyKept = camera?.publishKeys.some((key) => timingSafeEqual(digest(key), utilization.keyDigest));
    if (!camera || !keyKept) throw new PushError(4052, 'unconfigured utilization: its API key is no longer configured');
    return camera;
  }

  /** Where the port pairs are bound: HTTPBindAddress when it is an IP address, else every IPv4 address. */
  private bindAddress(): string {
    const address = this.config().httpBindAddress;
    return isIP(address) ? address : '0.0.0.0';
  }

  private forgetIdle(): void {
    const now = Date.now();
    const idle = [...this.utilizations.values()]
      .filter((utilization) => !utilization.session || utilization.session.state === 'ended')
      .sort((a, b) => a.lastUsedAt - b.lastUsedAt);
    let excess = this.utilizations.size + 1 - MAX_UTILIZATIONS;
    for (const utilization of idle) {
      if (excess > 0 || now - utilization.lastUsedAt > UTILIZATION_IDLE_MS) {
        this.utilizations.delete(utilization.id);
        excess--;
      }
    }
    if (this.utilizations.size >= MAX_UTILIZATIONS) throw new PushError(5031, 'too many publishers streaming');
  }

  private logEnd(camera: string, session: PushSession, reason: PushEndReason): void {
    const c = session.counters;
    this.log.info(
      `camera ${camera}: push stream on UDP ${session.rtpPort} ended (${reason}): ${c.packets} packets, ${c.frames} frames, ` +
        `${c.lost} lost, ${c.droppedFrames} frames dropped, ${c.foreign} from other addresses, ${c.wrongSsrc} of another SSRC, ` +
        `${c.malformed} malformed, ${c.unsupported} of an unsupported payload type`,
    );
  }
}
