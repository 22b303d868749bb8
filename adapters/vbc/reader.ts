import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { ByteBuffer } from '../../lib/byte-buffer.ts';
import { AdapterError } from '../errors.ts';

/** A deadline for one awaited reply, with the words that name it in a TIMEOUT error. */
export interface ReplyDeadline {
  /** performance.now() value after which the wait fails. */
  readonly at: number;
  readonly ms: number;
  readonly what: string;
}

/** Makes a deadline `ms` from now. */
export function deadlineIn(ms: number, what: string): ReplyDeadline {
  return { at: performance.now() + ms, ms, what };
}

/**
 * Pull-style reading from a socket for incremental parsers: read() applies a parse function to the bytes held and
 * waits for more until it yields a value, the deadline passes or the socket ends. The socket is paused whenever nobody
 * is reading, so a camera that sends faster than we parse is held back by TCP instead of growing our buffer.
 */
export class SocketReader {
  private readonly buffer = new ByteBuffer(16 * 1024);
  private failure: AdapterError | undefined;
  private wake: (() => void) | undefined;

  constructor(private readonly socket: Socket) {
    socket.pause();
    socket.on('data', (chunk: Buffer) => {
      this.buffer.append(chunk);
      if (!this.wake) socket.pause();
      this.notify();
    });
    socket.on('end', () => this.fail(new AdapterError('CLOSED', 'camera closed the connection')));
    socket.on('error', (error: NodeJS.ErrnoException) => {
      this.fail(new AdapterError('CLOSED', `connection to camera lost: ${error.code ?? error.message}`));
    });
    socket.on('close', () => this.fail(new AdapterError('CLOSED', 'connection to camera closed')));
  }

  /** Bytes received and not yet parsed. */
  get bufferedBytes(): number {
    return this.buffer.length;
  }

  /**
   * Resolves with the first value `parse` returns for the bytes held (bytes already received are parsed even after the
   * socket ended); rejects with what `parse` throws, CLOSED when the socket ends first, or TIMEOUT at the deadline.
   */
  async read<T>(parse: (buffer: ByteBuffer) => T | undefined, deadline: ReplyDeadline): Promise<T> {
    for (;;) {
      const value = parse(this.buffer);
      if (value !== undefined) return value;
      if (this.failure) throw this.failure;
      const remaining = deadline.at - performance.now();
      if (remaining <= 0) throw new AdapterError('TIMEOUT', `${deadline.what}: no answer within ${deadline.ms} ms`);
      await this.waitForData(remaining);
    }
  }

  /** Waits up to `ms` for more bytes or the end of the socket. */
  private waitForData(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.notify(), Math.ceil(ms));
      this.wake = () => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
      this.socket.resume();
    });
  }

  private fail(error: AdapterError): void {
    this.failure ??= error;
    this.notify();
  }

  private notify(): void {
    this.wake?.();
  }
}
