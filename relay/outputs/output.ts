import type { ServerResponse } from 'node:http';
import type { Context } from 'koa';
import type { StreamConfig } from '../../conf/types.ts';
import type { Fanout } from '../fanout.ts';
import type { Feed } from '../feed.ts';
import type { Transcode } from '../transcode.ts';
import { Viewer, type ViewerLimits } from '../viewer.ts';

/** A served Stream: one of flv, hls, mpjpeg, jpeg. The HTTP edge admits a viewer, then hands the request over. */
export interface StreamOutput {
  readonly config: StreamConfig;
  readonly feed: Feed;
  /** Present for flv and hls. */
  readonly transcode: Transcode | undefined;
  /** Present for the live streams (flv, mpjpeg). */
  readonly fanout: Fanout | undefined;
  /** Viewers now (for HLS, distinct clients seen recently). */
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

/** Starts a live response and its Viewer, holding the camera (and transcode) for as long as the viewer stays. */
export function openLiveViewer(ctx: Context, demand: Demand, config: StreamConfig, contentType: string): Viewer {
  const release = demand.acquire();
  const socket = startLiveResponse(ctx, contentType).socket!;
  const viewer = new Viewer(socket, viewerLimits(config), socket.remoteAddress ?? 'unknown', 'http');
  viewer.onClose(release);
  return viewer;
}

/** The per-viewer limits a Stream block sets. */
export function viewerLimits(config: StreamConfig): ViewerLimits {
  return {
    budgetBytes: config.viewerBudgetBytes,
    hardLimitBytes: config.viewerHardLimitBytes,
    writeTimeoutMs: config.viewerWriteTimeoutMs,
  };
}

/** Holds a Feed and, where present, its transcode while viewers want them; lingers CloseAfter after the last one. */
export class Demand {
  private count = 0;
  private releaseFeed: (() => void) | undefined;
  private stopTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly feed: Feed,
    private readonly transcode: Transcode | undefined,
  ) {}

  /** Always-on cameras keep their transcodes running; on-demand ones run them only while watched. */
  get alwaysOn(): boolean {
    return !this.feed.camera.onDemand;
  }

  start(): void {
    if (this.alwaysOn) this.transcode?.start();
  }

  acquire(): () => void {
    this.count++;
    clearTimeout(this.stopTimer);
    this.releaseFeed ??= this.feed.acquire();
    if (!this.alwaysOn) this.transcode?.start();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (--this.count > 0) return;
      // The Feed lingers by itself; the transcode lingers alongside so a returning viewer finds both warm.
      this.releaseFeed?.();
      this.releaseFeed = undefined;
      if (this.alwaysOn) return;
      this.stopTimer = setTimeout(() => void this.idle(), this.feed.camera.closeAfterMs);
      this.stopTimer.unref();
    };
  }

  async close(): Promise<void> {
    clearTimeout(this.stopTimer);
    this.releaseFeed?.();
    this.releaseFeed = undefined;
    await this.transcode?.stop();
  }

  private async idle(): Promise<void> {
    if (this.count === 0) await this.transcode?.stop();
  }
}
