import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import type { CameraConfig, RelayConfig } from '../../conf/types.ts';
import type { Logger } from '../../relay/log.ts';
import type { AdapterError } from '../errors.ts';
import type { Frame } from '../types.ts';
import type { PushCodec } from './codecs.ts';
import { RtpPortPool } from './ports.ts';
import { plainAddress, PushSession, type PushEndReason } from './session.ts';

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

/** What a running push adapter hears from the hub about its camera. */
export interface PushListener {
  onFrame(frame: Frame): void;
  /** The camera's session ended: 'stopped' by the publisher, or it failed (silence, protocol). */
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

/** Ids kept at most; the least recently used idle one goes first. */
const MAX_UTILIZATIONS = 4096;
/** An id unused this long, with no stream, is forgotten. */
const UTILIZATION_IDLE_MS = 60 * 60 * 1000;

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/**
 * The relay's side of push ingest: which camera a key opens, utilization ids, port pairs, the live session of each
 * push camera, and the adapter of each camera waiting for frames. One per relay; the gateway and the adapters share it.
 */
export class PushHub {
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
    this.forgetIdle();
    const id = randomBytes(16).toString('hex');
    this.utilizations.set(id, { id, camera: match.camera.name, keyDigest: match.keyDigest, lastUsedAt: Date.now(), session: undefined });
    return id;
  }

  /** start_stream: binds a port pair for the utilization's camera, taking datagrams from `address` only. */
  async startStream(key: string, id: string, address: string, codec: PushCodec): Promise<{ rtpPort: number; rtcpPort: number }> {
    const match = this.cameraForKey(key);
    if (!match) throw new PushError(4011, 'non valid API key');
    const utilization = this.utilization(id);
    if (utilization.camera !== match.camera.name) throw new PushError(4013, 'utilization identifier and API key not compatible');
    const camera = this.configuredCamera(utilization);
    if (utilization.session && utilization.session.state !== 'ended') throw new PushError(4091, 'stream already active');
    for (const other of this.utilizations.values()) {
      if (other.camera === camera.name && other.session && other.session.state !== 'ended') {
        throw new PushError(4091, `camera ${camera.name} already has an active stream`);
      }
    }
    const ports = await this.pool.allocate(this.bindAddress());
    if (ports === 'exhausted') throw new PushError(5031, 'no free RTP port pair in RTPPortRange');
    if (ports === 'unbindable') throw new PushError(5001, 'cannot initialize stream listener: no port pair of RTPPortRange could be bound');
    if (this.closed) {
      this.pool.release(ports);
      throw new PushError(5031, 'the relay is stopping');
    }
    const session = new PushSession({
      ports,
      publisherAddress: address,
      codec,
      maxFrameBytes: camera.maxFrameBytes,
      followSsrc: camera.followSsrc,
      timeoutMs: camera.timeoutMs,
      onFrame: (frame) => this.listeners.get(camera.name)?.onFrame(frame),
      onEnd: (reason, error) => {
        this.logEnd(camera.name, session, reason);
        this.listeners.get(camera.name)?.onSessionEnd(reason, error);
      },
      release: (pair) => this.pool.release(pair),
    });
    utilization.session = session;
    utilization.lastUsedAt = Date.now();
    this.log.info(`camera ${camera.name}: publisher ${plainAddress(address)} starts ${codec} on UDP ${ports.rtpPort}/${ports.rtpPort + 1}`);
    return { rtpPort: ports.rtpPort, rtcpPort: ports.rtpPort + 1 };
  }

  /** validate_stream: the utilization's session, for the gateway to judge. */
  sessionOf(id: string): PushSession | undefined {
    const utilization = this.utilization(id);
    this.configuredCamera(utilization);
    return utilization.session;
  }

  /** stop_stream: ends the utilization's stream and frees its ports. */
  stopStream(id: string): void {
    const utilization = this.utilization(id);
    const session = utilization.session;
    if (!session || session.state === 'ended') throw new PushError(4092, 'stream not running');
    session.close('stopped');
    this.logEnd(utilization.camera, session, 'stopped');
    this.listeners.get(utilization.camera)?.onSessionEnd('stopped');
  }

  /** A running push adapter takes its camera's frames; returns the function that lets go (and ends the stream). */
  attach(cameraName: string, listener: PushListener): () => void {
    this.listeners.set(cameraName, listener);
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
