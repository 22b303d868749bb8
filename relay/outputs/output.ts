import type { ServerResponse } from 'node:http';
import type { Context } from 'koa';
import type { StreamConfig } from '../../conf/types.ts';
import type { SharedEncoder } from '../encoders/shared-encoder.ts';
import type { Fanout } from '../core/fanout.ts';
import type { Feed } from '../core/feed.ts';
import { RelayError } from '../core/errors.ts';
import { Viewer, type ViewerLimits } from '../core/viewer.ts';

/** A served Stream: one of flv, hls, mpjpeg, jpeg. The HTTP edge admits a viewer, then hands the request over. */
export interface StreamOutput {
  readonly config: StreamConfig;
  readonly feed: Feed;
  /** The shared encoder whose frames this stream packages (flv, hls); undefined for JPEG passthrough. */
  readonly video: SharedEncoder | undefined;
  /** Present for the live streams (flv, mpjpeg). */
  readonly fanout: Fanout | undefined;
  /** Viewers now (for HLS, sessions that reloaded their playlist recently). */
  readonly viewerCount: number;
  /** Bytes written to this stream's viewers since it started. */
  readonly bytesOut: number;
  start(): void;
  /** False for requests that continue a session already admitted (HLS segments and known clients). */
  needsAdmission(ctx: Context, subpath: string): boolean;
  /** Periodic housekeeping off the hot path (stalled viewers, expired HLS clients). */
  sweep(now: number): void;
  /** Serves one request; `subpath` is what follows `/NAME/` (HLS segments), else ''. */
  serve(ctx: Context, subpath: string): Promise<void>;
  close(): Promise<void>;
}

/** A live stream that any consumer can join: an HTTP viewer, an RTSP reader, a file writer, a test. */
export interface LiveOutput extends StreamOutput {
  readonly fanout: Fanout;
  /** Starts a consumer on this stream (header, codec configuration, current group first); it is ended with the stream. */
  attach(viewer: Viewer): void;
  /** Holds the camera (and encoder) for as long as a consumer stays; returns the release function. */
  acquire(): () => void;
}

/** Sets the headers every live response shares: never cached, no content sniffing. */
function setLiveHeaders(ctx: Context, contentType: string): void {
  ctx.status = 200;
  ctx.set('Content-Type', contentType);
  ctx.set('Cache-Control', 'no-cache, no-store, must-revalidate');
  ctx.set('Pragma', 'no-cache');
  ctx.set('X-Content-Type-Options', 'nosniff');
  ctx.set('Access-Control-Allow-Origin', '*');
}

/**
 * Starts a live response and hands back the socket to write frames to. A live stream has no length, so like ffserver
 * the body is delimited by closing the connection: no chunked encoding, and frames can be written to the socket as
 * they are, one write per viewer per frame (no per-write chunk headers, corking or nextTick).
 */
export function startLiveResponse(ctx: Context, contentType: string): ServerResponse {
  setLiveHeaders(ctx, contentType);
  ctx.set('Connection', 'close');
  ctx.respond = false;
  const response = ctx.res;
  response.useChunkedEncodingByDefault = false;
  response.shouldKeepAlive = false;
  response.writeHead(200, ctx.response.headers as Record<string, string>);
  // Headers go out now: a viewer of a camera that is still connecting must not wait for them.
  response.flushHeaders();
  return response;
}

/**
 * Serves an HTTP viewer of a live output: the response's socket becomes one more consumer of the stream. A request
 * pipelined behind another on the same connection has no socket of its own yet (and may never get one, if the one
 * in front is a live stream too): it is refused, so that every live response is a counted, timed consumer.
 */
export function serveLiveViewer(ctx: Context, output: LiveOutput, contentType: string): void {
  if (!ctx.res.socket) {
    ctx.set('Connection', 'close');
    throw new RelayError('BAD_REQUEST', 'a live stream cannot be pipelined behind another request: use a connection of its own');
  }
  const socket = startLiveResponse(ctx, contentType).socket!;
  const viewer = new Viewer(socket, viewerLimits(output.config), ctx.ip || socket.remoteAddress || 'unknown', 'http');
  output.attach(viewer);
}

/** The per-viewer limits a Stream block sets. */
export function viewerLimits(config: StreamConfig): ViewerLimits {
  return {
    budgetBytes: config.viewerBudgetBytes,
    hardLimitBytes: config.viewerHardLimitBytes,
    writeTimeoutMs: config.viewerWriteTimeoutMs,
  };
}
