import { randomBytes } from 'node:crypto';
import { Closable } from './closable.ts';
import type { RtspConnection } from './connection.ts';
import type { RtspReader } from './reader.ts';

/**
 * One RTSP session: a reader of one stream, set up by SETUP and ended by TEARDOWN, by its connection closing (TCP
 * interleaved; UDP unless its client's port keeps sending), by never playing, or by silence longer than the session
 * timeout. Only the connection that set it up may control it. It holds the camera and encoder while it lives.
 */
export class RtspSession extends Closable {
  /** 64 random bits: sessions of other clients cannot be guessed. */
  readonly id = randomBytes(8).toString('hex');
  readonly since = Date.now();
  lastActivity = Date.now();
  /** Counted as a viewer: set at its first admitted PLAY (a session that never plays holds no viewer slot). */
  admitted = false;
  /** The stream's sound, when the client set up its second track too. */
  audio: RtspReader | undefined;

  constructor(
    readonly streamName: string,
    readonly reader: RtspReader,
    /** The connection that set it up; a TCP-interleaved session ends with it. */
    readonly connection: RtspConnection,
    private readonly release: () => void,
  ) {
    super();
    reader.delivery.onClose(() => this.close());
  }

  /** The session's tracks: the picture, then the sound if set up. */
  get readers(): RtspReader[] {
    return this.audio ? [this.reader, this.audio] : [this.reader];
  }

  /** Bytes sent on all its tracks (interleaved tracks share one connection's count). */
  get bytesSent(): number {
    const audio = this.audio?.delivery;
    return this.reader.delivery.bytesSent + (audio && audio.transport === 'udp' ? audio.bytesSent : 0);
  }

  /** Adds the stream's sound; it ends with the session. */
  addAudio(reader: RtspReader): void {
    this.audio = reader;
    reader.delivery.onClose(() => this.close());
  }

  /** The address of the client that set it up. */
  get address(): string {
    return this.connection.address;
  }

  get transport(): 'tcp' | 'udp' {
    return this.reader.delivery.transport;
  }

  touch(now = Date.now()): void {
    this.lastActivity = now;
  }

  /** Ends the session: stops its RTP and releases the camera. Safe to call twice. */
  override close(): void {
    if (this.closed) return;
    super.close();
    this.reader.close();
    this.audio?.close();
    this.release();
  }
}
