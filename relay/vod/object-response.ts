import { pipeline } from 'node:stream/promises';
import type { Context } from 'koa';
import type { ObjectStore } from '../../lib/object-store.ts';
import { readObject } from '../../lib/object-stream.ts';
import { VodError } from '../../media/file/errors.ts';
import { findS3Object } from '../../media/file/s3-object.ts';

/** Content types by extension for bucket objects (the bucket's own type is not trusted to be a safe one). */
const TYPES: Record<string, string> = { mp4: 'video/mp4', m4v: 'video/mp4', mov: 'video/quicktime', mkv: 'video/x-matroska', ts: 'video/mp2t', mjpeg: 'video/x-motion-jpeg', mjpg: 'video/x-motion-jpeg' };

/** The first range of a `Range: bytes=...` header, resolved against `size`; undefined for none or one the relay ignores. */
export function parseRange(header: string | undefined, size: number): { start: number; end: number } | 'unsatisfiable' | undefined {
  const match = /^bytes=(\d*)-(\d*)$/.exec(header?.trim() ?? '');
  if (!match || (match[1] === '' && match[2] === '')) return undefined;
  if (match[1] === '') {
    const suffix = Number(match[2]);
    if (suffix === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(match[1]);
  const end = match[2] === '' ? size - 1 : Math.min(Number(match[2]), size - 1);
  if (start >= size || end < start) return 'unsatisfiable';
  return { start, end };
}

/**
 * GET|HEAD /vod/s3/STORAGE/KEY: the object streamed from the bucket by ranged reads (never whole in memory), with
 * Range (206, 416), Accept-Ranges, ETag and If-None-Match (304). A missing key is "File not found", as for files.
 */
export async function sendObject(ctx: Context, stores: ReadonlyMap<string, ObjectStore>, encodedName: string): Promise<void> {
  const { store, info, name } = await findS3Object(stores, encodedName);
  const extension = name.split('.').pop()?.toLowerCase() ?? '';
  ctx.set('Accept-Ranges', 'bytes');
  ctx.set('Access-Control-Allow-Origin', '*');
  ctx.set('X-Content-Type-Options', 'nosniff');
  ctx.set('Cache-Control', 'public, max-age=3600');
  if (info.etag) ctx.set('ETag', info.etag);
  if (info.lastModified) ctx.set('Last-Modified', info.lastModified.toUTCString());
  if (info.etag && ctx.get('If-None-Match') === info.etag) {
    ctx.status = 304;
    return;
  }
  const range = ctx.get('If-Range') && ctx.get('If-Range') !== info.etag ? undefined : parseRange(ctx.get('Range') || undefined, info.size);
  if (range === 'unsatisfiable') {
    ctx.set('Content-Range', `bytes */${info.size}`);
    throw new VodError('RANGE_NOT_SATISFIABLE', 'The requested range is outside the file');
  }
  const { start, end } = range ?? { start: 0, end: info.size - 1 };
  ctx.respond = false;
  const response = ctx.res;
  response.statusCode = range ? 206 : 200;
  for (const [header, value] of Object.entries(ctx.response.headers)) if (value !== undefined) response.setHeader(header, value as string);
  response.setHeader('Content-Type', TYPES[extension] ?? 'application/octet-stream');
  response.setHeader('Content-Length', String(Math.max(0, end - start + 1)));
  if (range) response.setHeader('Content-Range', `bytes ${start}-${end}/${info.size}`);
  if (ctx.method === 'HEAD' || info.size === 0) {
    response.end();
    return;
  }
  const abort = new AbortController();
  response.once('close', () => abort.abort());
  // A failure after the headers went out can only cut the response: the client sees a short body, as with a file.
  await pipeline(readObject(store, info, { start, end: end + 1, signal: abort.signal }), response).catch(() => response.destroy());
}
