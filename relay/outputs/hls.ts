import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Context } from 'koa';
import type { StreamConfig } from '../../conf/types.ts';
import { RelayError } from '../errors.ts';
import type { Feed } from '../feed.ts';
import type { SharedEncoder } from '../encoders/shared-encoder.ts';
import type { HlsPackager } from './hls-packager.ts';
import type { StreamOutput } from './output.ts';

const SEGMENT_NAME = /^seg\d{6}\.ts$/;
const PLAYLIST_POLL_MS = 200;

/** The URL prefix of a stream's segments, relative to its playlist: `test.m3u8` -> `test/`. */
export function hlsSegmentPrefix(streamName: string): string {
  return `${streamName.replace(/\.m3u8$/i, '')}/`;
}

/**
 * An HLS stream: ffmpeg writes the playlist and segments into a directory; the relay serves them with the playlist
 * uncacheable and segments cacheable, keeps recent segments in memory, and counts viewers as the distinct clients
 * seen within the last few segment durations.
 */
export class HlsOutput implements StreamOutput {
  readonly fanout = undefined;
  private holders = 0;
  private releaseVideo: (() => void) | undefined;
  private stopTimer: NodeJS.Timeout | undefined;
  private readonly clients = new Map<string, { lastSeen: number; release: () => void }>();
  private readonly segmentCache = new Map<string, Buffer>();
  bytesOut = 0;
  requests = 0;

  constructor(
    readonly config: StreamConfig,
    readonly feed: Feed,
    readonly video: SharedEncoder,
    readonly packager: HlsPackager,
    readonly dir: string,
  ) {}

  get viewerCount(): number {
    return this.clients.size;
  }

  /** A client that has asked for nothing for this long is no longer counted as watching. */
  get clientWindowMs(): number {
    return Math.max(10_000, this.config.hlsSegmentSeconds * 3 * 1000);
  }

  start(): void {
    if (this.video.alwaysOn) this.packager.supervisor.start();
  }

  needsAdmission(ctx: Context, subpath: string): boolean {
    return subpath === '' && !this.clients.has(clientKey(ctx));
  }

  /** Forgets clients that stopped asking, releasing the camera when none remain. */
  sweep(now: number): void {
    for (const [key, client] of this.clients) {
      if (now - client.lastSeen > this.clientWindowMs) {
        this.clients.delete(key);
        client.release();
      }
    }
  }

  async serve(ctx: Context, subpath: string): Promise<void> {
    this.touch(ctx);
    this.requests++;
    if (subpath === '') return this.servePlaylist(ctx);
    if (!SEGMENT_NAME.test(subpath)) ctx.throw(404);
    const segment = await this.readSegment(subpath);
    if (!segment) ctx.throw(404, 'segment expired');
    ctx.status = 200;
    ctx.type = 'video/mp2t';
    ctx.set('Cache-Control', `public, max-age=${Math.ceil(this.config.hlsSegmentSeconds * this.config.hlsListSize * 2)}`);
    ctx.set('Access-Control-Allow-Origin', '*');
    ctx.body = segment;
    this.bytesOut += segment.length;
  }

  async close(): Promise<void> {
    for (const client of this.clients.values()) client.release();
    this.clients.clear();
    clearTimeout(this.stopTimer);
    this.releaseVideo?.();
    await this.packager.supervisor.stop();
  }

  /** Holds the encoder and the packager while HLS clients watch; on-demand cameras linger CloseAfter after the last. */
  private acquire(): () => void {
    this.holders++;
    clearTimeout(this.stopTimer);
    this.releaseVideo ??= this.video.acquire();
    this.packager.supervisor.start();
    return () => {
      if (--this.holders > 0) return;
      this.releaseVideo?.();
      this.releaseVideo = undefined;
      if (this.video.alwaysOn) return;
      this.stopTimer = setTimeout(() => void (this.holders === 0 && this.packager.supervisor.stop()), this.feed.camera.closeAfterMs);
      this.stopTimer.unref();
    };
  }

  private touch(ctx: Context): void {
    const key = clientKey(ctx);
    const known = this.clients.get(key);
    if (known) known.lastSeen = Date.now();
    else this.clients.set(key, { lastSeen: Date.now(), release: this.acquire() });
  }

  private async servePlaylist(ctx: Context): Promise<void> {
    const deadline = Date.now() + this.config.hlsSegmentSeconds * 3000 + 10_000;
    let playlist: Buffer | undefined;
    for (;;) {
      playlist = await readFile(join(this.dir, 'index.m3u8')).catch(() => undefined);
      if (playlist || Date.now() > deadline || ctx.req.destroyed) break;
      await new Promise((resolve) => setTimeout(resolve, PLAYLIST_POLL_MS));
    }
    if (!playlist) throw new RelayError('NOT_READY', 'stream is starting');
    ctx.status = 200;
    ctx.type = 'application/vnd.apple.mpegurl';
    ctx.set('Cache-Control', 'no-cache, no-store, must-revalidate');
    ctx.set('Access-Control-Allow-Origin', '*');
    ctx.body = playlist;
    this.bytesOut += playlist.length;
  }

  private async readSegment(name: string): Promise<Buffer | undefined> {
    const cached = this.segmentCache.get(name);
    if (cached) return cached;
    const data = await readFile(join(this.dir, name)).catch(() => undefined);
    if (!data) return undefined;
    this.segmentCache.set(name, data);
    while (this.segmentCache.size > this.config.hlsListSize + 2) {
      this.segmentCache.delete(this.segmentCache.keys().next().value!);
    }
    return data;
  }
}

/** HLS is stateless: a client is its address and user agent. */
function clientKey(ctx: Context): string {
  return `${ctx.ip} ${ctx.get('user-agent')}`;
}
