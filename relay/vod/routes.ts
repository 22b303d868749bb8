import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Router from '@koa/router';
import type { Context } from 'koa';
import type { Logger } from '../../lib/log.ts';
import type { ProcessSlots } from '../../lib/process-slots.ts';
import { handleVodApi } from './api.ts';
import { fileNotFound, VodError } from '../../media/file/errors.ts';
import { fileServer, sendMediaFile, writeJsonError } from './file-response.ts';
import { VOD_SEGMENT_NAME, VodHlsCache } from './hls-cache.ts';
import { resolveMediaFile, type MediaFile } from '../../media/file/path.ts';
import { renderVodPlayerPage } from './player-page.ts';
import { probeMediaFile, type MediaInfo } from '../../media/file/probe.ts';
import { VodStreams, type StartedStreamHost } from './streams.ts';
import { sendObject } from './object-response.ts';
import { isS3Name } from '../../media/file/s3-object.ts';

/** What the VOD routes need of the running relay: started streams' host, process slots, and its end. */
export interface VodRelay extends StartedStreamHost {
  readonly processSlots: ProcessSlots;
  readonly stopSignal: AbortSignal;
}

const SEGMENT_MAX_AGE = '1h';

/**
 * Video on demand: GET|HEAD /vod/FILE (the file, with ranges and validators), /vod/FILE.m3u8 and its segments (an
 * HLS VOD package made once by ffmpeg), /player/vod/FILE (a player page), and the /api/vod/ JSON API that starts,
 * finds and stops vod-live:// streams. Every answer of these routes is JSON on error, with a stable code.
 */
export function registerVodRoutes(router: Router, relay: VodRelay, log: Logger): void {
  const cache = new VodHlsCache(createCacheRoot(relay), relay.deps.ffmpeg.path, log.child('vod'), relay.processSlots, () => relay.config.vodCacheMaxBytes);
  const streams = new VodStreams(relay);
  const vodLog = log.child('vod');
  relay.stopSignal.addEventListener('abort', () => cache.stop(), { once: true });

  router.get(/^\/vod\/(.+)$/, (ctx) => guarded(ctx, vodLog, () => serveVod(ctx, relay, cache)));
  router.get(/^\/player\/vod\/(.+)$/, (ctx) =>
    guarded(ctx, vodLog, async () => {
      const file = await resolveMediaFile(relay.config.mediaPath, ctx.path.slice('/player/vod/'.length));
      ctx.type = 'text/html; charset=utf-8';
      ctx.set('Cache-Control', 'no-cache');
      ctx.set('X-Content-Type-Options', 'nosniff');
      ctx.body = renderVodPlayerPage(file.name, ctx.query.token);
    }),
  );
  router.all(/^\/api\/vod\/(.*)$/, (ctx) => guarded(ctx, vodLog, () => handleVodApi(ctx, streams)));
}

/** The cache root: VodCachePath, else a directory of the relay's own under the system's temporary directory. */
function createCacheRoot(relay: VodRelay): string {
  const configured = relay.config.vodCachePath;
  if (configured) return configured;
  // Made now, synchronously named: the directory is created on first use and removed when the relay stops.
  const owned = join(tmpdir(), `relay-vod-${process.pid}-${Math.random().toString(36).slice(2, 10)}`);
  relay.stopSignal.addEventListener('abort', () => void rm(owned, { recursive: true, force: true }), { once: true });
  return owned;
}

/** Runs a handler, answering VodErrors with their JSON and anything else with a logged 500. */
async function guarded(ctx: Context, log: Logger, handler: () => Promise<void>): Promise<void> {
  try {
    await handler();
  } catch (error) {
    const vodError = error instanceof VodError ? error : undefined;
    if (!vodError) log.error(`${ctx.method} ${ctx.path.slice(0, 200)} failed: ${(error as Error)?.stack ?? String(error)}`);
    const answer = vodError ?? new VodError('INTERNAL', 'Internal error');
    if (ctx.respond === false) return writeJsonError(ctx.res, answer);
    ctx.status = answer.status;
    ctx.set('Cache-Control', 'no-cache');
    if (answer.retryAfterS !== undefined) ctx.set('Retry-After', String(answer.retryAfterS));
    ctx.body = answer.toJSON();
  }
}

/** /vod/FILE, /vod/FILE.m3u8 and /vod/FILE.m3u8/segNNNNN.ts. */
async function serveVod(ctx: Context, relay: VodRelay, cache: VodHlsCache): Promise<void> {
  const rest = ctx.path.slice('/vod/'.length);
  const root = relay.config.mediaPath;
  // Objects of a configured bucket: downloads with Range (HLS packaging is for files on the relay's disk).
  if (isS3Name(rest)) return sendObject(ctx, relay.objectStores, rest);
  const segment = /^(.+)\.m3u8\/(seg\d{5}\.ts)$/.exec(rest);
  if (segment) {
    const dir = await cache.packageDir(await playableFile(root, segment[1]!, relay), ctx.ip);
    if (!VOD_SEGMENT_NAME.test(segment[2]!)) throw fileNotFound();
    return sendSegment(ctx, dir, segment[2]!);
  }
  if (rest.endsWith('.m3u8')) {
    const name = rest.slice(0, -'.m3u8'.length);
    const dir = await cache.packageDir(await playableFile(root, name, relay), ctx.ip);
    const base = encodeURIComponent(name.split('/').pop()!);
    const playlist = (await cache.playlist(dir))
      .split('\n')
      .map((line) => (VOD_SEGMENT_NAME.test(line.trim()) ? `${base}.m3u8/${line.trim()}` : line))
      .join('\n');
    ctx.status = 200;
    ctx.type = 'application/vnd.apple.mpegurl';
    ctx.set('Cache-Control', 'public, max-age=60');
    ctx.set('Access-Control-Allow-Origin', '*');
    ctx.body = playlist;
    return;
  }
  await sendMediaFile(ctx, await resolveMediaFile(root, rest));
}

/** Probe results by file version, so segment requests do not run ffprobe each time. */
const probed = new Map<string, MediaInfo>();
const MAX_PROBED = 256;

/** A file HLS can carry in copy mode: H.264 video (a JPEG file would need encoding, which packaging never does). */
async function playableFile(root: string, encodedName: string, relay: VodRelay): Promise<MediaFile> {
  const file = await resolveMediaFile(root, encodedName);
  const key = `${file.path}\0${file.stats.size}\0${file.stats.mtimeMs}`;
  let info = probed.get(key);
  if (!info) {
    info = await probeMediaFile(file.path, relay.deps.ffmpeg.path);
    if (probed.size >= MAX_PROBED) probed.delete(probed.keys().next().value!);
    probed.set(key, info);
  }
  if (info.videoCodec !== 'h264') throw new VodError('UNSUPPORTED_MEDIA_TYPE', 'Only H.264 files are packaged for HLS');
  return file;
}

function sendSegment(ctx: Context, dir: string, name: string): Promise<void> {
  ctx.respond = false;
  ctx.res.statusCode = 200; // Koa's initial 404 would otherwise go out with the segment
  return new Promise((resolve) => {
    ctx.res.once('close', resolve);
    ctx.res.once('finish', resolve);
    fileServer()(ctx.req, `/${name}`, { root: dir, maxAge: SEGMENT_MAX_AGE, index: false, dotfiles: 'deny' })
      .on('headers', (res) => res.setHeader('Access-Control-Allow-Origin', '*'))
      .on('error', () => writeJsonError(ctx.res, fileNotFound()))
      .pipe(ctx.res);
  });
}
