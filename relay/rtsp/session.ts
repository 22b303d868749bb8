import { randomBytes } from 'node:crypto';
import { Closable } from './closable.ts';
import type { RtspConnection } from './connection.ts';
import type { RtspReader } from './reader.ts';

/**
 * One RTSP session: a reader of one stream, set up by SETUP and ended by TEARDOWN, by its connection closing (TCP
 * interleaved) or by silence longer than the session timeout. It holds the camera and encoder while it lives.
 */
export class RtspSession extends Closable {
  /** 64 random bits: sessions of other clients cannot be guessed. */
  readonly id = randomBytes(8).toString('hex');
  readonly since = Date.now();
  lastActivity = Date.now();

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
    this.release();
  }
}
