import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/** Per-viewer limits, from the stream's config. */
export interface ViewerLimits {
  /** Queued bytes above which frames are dropped for this viewer until the next keyframe. */
  readonly budgetBytes: number;
  /** Queued bytes above which the viewer is disconnected. */
  readonly hardLimitBytes: number;
  /** A viewer whose socket accepts no byte for this long, while bytes wait, is disconnected. */
  readonly writeTimeoutMs: number;
}

/**
 * One HTTP viewer of a live stream. Frames are written as shared Buffers straight to the socket (the response is
 * close-delimited, see startLiveResponse); when the socket falls behind, frames are dropped (never queued without
 * bound) and the viewer resumes at the next keyframe.
 */
export class Viewer {
  readonly since = Date.now();
  readonly remoteAddress: string;
  bytesSent = 0;
  framesSent = 0;
  drops = 0;
  closed = false;
  private waitingForKeyframe = false;
  private lastProgressAt = Date.now();
  private lastBytesWritten = 0;
  private readonly onCloseCallbacks: Array<() => void> = [];
  private readonly socket: Socket;

  constructor(
    readonly response: ServerResponse,
    private readonly limits: ViewerLimits,
  ) {
    this.socket = response.socket!;
    this.remoteAddress = this.socket?.remoteAddress ?? 'unknown';
    const finish = (): void => this.markClosed();
    response.once('close', finish);
    response.once('error', finish);
    if (!this.socket || this.socket.destroyed) this.markClosed();
  }

  /** Writes a frame unless the viewer is behind; returns false when the frame was dropped. */
  send(bytes: Buffer, keyframe: boolean): boolean {
    if (this.closed) return false;
    const queued = this.socket.writableLength;
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
    this.socket.write(bytes);
    this.bytesSent += bytes.length;
    this.framesSent++;
    return true;
  }

  /** Writes bytes every viewer must have (headers, codec configuration), regardless of budget. */
  sendRequired(bytes: Buffer): void {
    if (this.closed) return;
    this.socket.write(bytes);
    this.bytesSent += bytes.length;
  }

  /** Called periodically: disconnects a viewer whose socket has accepted nothing for writeTimeoutMs. */
  checkStalled(now: number): boolean {
    const socket = this.socket;
    if (this.closed) return false;
    if (socket.bytesWritten !== this.lastBytesWritten || socket.writableLength === 0) {
      this.lastBytesWritten = socket.bytesWritten;
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

  /** Ends the viewer's connection at once (drops whatever is queued). Safe to call twice. */
  disconnect(): void {
    if (this.closed) return;
    this.response.destroy();
    this.markClosed();
  }

  /** Ends the response politely (used at shutdown). */
  end(): void {
    if (this.closed) return;
    this.response.end();
    this.markClosed();
  }

  private markClosed(): void {
    if (this.closed) return;
    this.closed = true;
    for (const callback of this.onCloseCallbacks.splice(0)) callback();
  }
}
