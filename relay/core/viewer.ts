/** Per-viewer limits, from the stream's config. */
export interface ViewerLimits {
  /** Queued bytes above which frames are dropped for this viewer until the next keyframe. */
  readonly budgetBytes: number;
  /** Queued bytes above which the viewer is disconnected. */
  readonly hardLimitBytes: number;
  /** A viewer whose sink accepts no byte for this long, while bytes wait, is disconnected. */
  readonly writeTimeoutMs: number;
}

/**
 * Where a consumer's bytes go: a TCP socket (HTTP viewer, RTSP interleaved reader) or any writable stream (a file,
 * a pipe). A net.Socket and a fs.WriteStream both fit; so does a test double.
 */
export interface ByteSink {
  write(chunk: Buffer): boolean;
  /** Bytes accepted by write() and not yet handed to the kernel or disk. */
  readonly writableLength: number;
  readonly destroyed: boolean;
  destroy(): void;
  end(): void;
  once(event: 'close', listener: () => void): unknown;
  once(event: 'error', listener: (error: Error) => void): unknown;
}

/** What a consumer is, for /stat.json and /metrics. */
export type ConsumerProtocol = 'http' | 'rtsp' | 'file' | 'ws' | 'test';

/**
 * One consumer of a live stream: an HTTP viewer, an RTSP reader, a recorder, a test. Frames are written as shared
 * Buffers straight to its sink; when the sink falls behind, frames are dropped (never queued without bound) and the
 * consumer resumes at the next keyframe. It does not know about HTTP.
 */
export class Viewer {
  readonly since = Date.now();
  bytesSent = 0;
  framesSent = 0;
  drops = 0;
  closed = false;
  private waitingForKeyframe = false;
  private lastProgressAt = Date.now();
  private lastQueued = 0;
  private sentAtLastCheck = 0;
  private readonly onCloseCallbacks: Array<() => void> = [];

  constructor(
    private readonly sink: ByteSink,
    private readonly limits: ViewerLimits,
    readonly remoteAddress = 'unknown',
    readonly protocol: ConsumerProtocol = 'http',
  ) {
    const finish = (): void => this.markClosed();
    sink.once('close', finish);
    // A viewer that leaves mid-write resets the connection: normal, counted by the close, never logged as an error.
    sink.once('error', finish);
    if (sink.destroyed) this.markClosed();
  }

  /** Writes a frame unless the consumer is behind; returns false when the frame was dropped. */
  send(bytes: Buffer, keyframe: boolean): boolean {
    if (this.closed) return false;
    const queued = this.sink.writableLength;
    if (queued > this.limits.hardLimitBytes) {
      this.disconnect();
      return false;
    }
    if (this.waitingForKeyframe && !keyframe) {
      this.drops++;
      return false;
    }
    if (queued > this.limits.budgetBytes) {
      this.drops++;
      this.waitingForKeyframe = true;
      return false;
    }
    this.waitingForKeyframe = false;
    this.sink.write(bytes);
    this.bytesSent += bytes.length;
    this.framesSent++;
    return true;
  }

  /** Writes bytes every consumer must have (headers, codec configuration), regardless of budget. */
  sendRequired(bytes: Buffer): void {
    if (this.closed) return;
    this.sink.write(bytes);
    this.bytesSent += bytes.length;
  }

  /** Bytes waiting in this consumer's sink. */
  get queuedBytes(): number {
    return this.sink.writableLength;
  }

  /** Called periodically: disconnects a consumer whose sink has taken nothing for writeTimeoutMs while bytes wait. */
  checkStalled(now: number): boolean {
    if (this.closed) return false;
    const queued = this.sink.writableLength;
    // Progress: the queue drained, or it shrank, or new bytes went in and it did not grow by all of them.
    const drained = queued === 0 || queued < this.lastQueued + (this.bytesSent - this.sentAtLastCheck);
    this.lastQueued = queued;
    this.sentAtLastCheck = this.bytesSent;
    if (drained) {
      this.lastProgressAt = now;
      return false;
    }
    if (now - this.lastProgressAt < this.limits.writeTimeoutMs) return false;
    this.disconnect();
    return true;
  }

  onClose(callback: () => void): void {
    if (this.closed) callback();
    else this.onCloseCallbacks.push(callback);
  }

  /** Ends the connection at once (drops whatever is queued). Safe to call twice. */
  disconnect(): void {
    if (this.closed) return;
    this.sink.destroy();
    this.markClosed();
  }

  /** Ends politely after what is queued (used when a stream closes and at shutdown). Safe to call twice. */
  end(): void {
    if (this.closed) return;
    this.sink.end();
    this.markClosed();
  }

  private markClosed(): void {
    if (this.closed) return;
    this.closed = true;
    for (const callback of this.onCloseCallbacks.splice(0)) callback();
  }
}
