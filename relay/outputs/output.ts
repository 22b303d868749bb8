import type { ServerResponse } from 'node:http';
import type { Context } from 'koa';
import type { StreamConfig } from '../../conf/types.ts';
import type { SharedEncoder } from '../encoders/shared-encoder.ts';
import type { Fanout } from '../core/fanout.ts';
import type { Feed } from '../core/feed.ts';
import { RelayError } from '../core/errors.ts';
import { Viewer, type ViewerLimits } from '../core/viewer.ts';

/** What every output answers for /stat.json, /metrics and the rate sampler, so none of them reads its internals. */
export interface OutputStats {
  /** Viewers now (for HLS, sessions that reloaded their playlist recently). */
  readonly viewers: number;
  /** Bytes written to this stream's viewers since it started. */
  readonly bytesOut: number;
  /** Frames sent out (for HLS, which has no fan-out: frames its encoder produced). */
  readonly framesOut: number;
  /** Frames not sent to slow viewers plus camera frames not handed to a backed-up encoder. */
  readonly drops: number;
  readonly slowDisconnects: number;
  /** Consumers waiting for the stream to start (counted in viewers). */
  readonly waiting: number;
  /** Consumers of a live stream, for the viewer list (none for HLS and JPEG). */
  readonly consumers: Iterable<Viewer>;
  /** HLS: requests that reached the relay by kind (playlist, segment, part, init); undefined for other formats. */
  readonly originRequests: Readonly<Record<string, number>> | undefined;
}

/** The in-house player page a stream has at /player/NAME: hls.js for HLS, mpegts.js for FLV. */
export type PlayerKind = 'hls' | 'flv';

/**
 * A served Stream at /NAME, built by its format's entry of the output registry (registry.ts). The HTTP edge admits a
 * viewer, then hands the request over.
 */
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
  /** The player page this stream has, if any. */
  readonly player: PlayerKind | undefined;
  /** The URL folder its other resources live under (HLS: `NAME/` for `NAME.m3u8`), served through serve(ctx, subpath). */
  readonly resourcePrefix: string | undefined;
  start(): void;
  stats(): OutputStats;
  /** False for requests that continue a session already admitted (HLS segments and known clients). */
  needsAdmission(ctx: Context, subpath: string): boolean;
  /** Periodic housekeeping off the hot path (stalled viewers, expired HLS clients). */
  sweep(now: number): void;
  /** Serves one request; `subpath` is what follows `/NAME/` (HLS segments), else ''. */
  serve(ctx: Context, subpath: string): Promise<void>;
  /** Ends its viewers and stops taking frames. Safe to call twice. */
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
