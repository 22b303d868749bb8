import type { Context } from 'koa';
import { RelayError } from '../core/errors.ts';

/** What a cacheable HLS response carries besides its body. */
export interface CacheableResponse {
  readonly contentType: string;
  readonly cacheControl: string;
  /** A strong entity tag, quoted. */
  readonly etag: string;
  /** Epoch ms of the last change; 0 when unknown (no Last-Modified then). */
  readonly modifiedAt: number;
  /** False when Last-Modified (one-second resolution) cannot tell this version from an earlier one of the same second. */
  readonly modifiedAtIdentifies: boolean;
}

/**
 * Answers a GET or HEAD with a body from memory and validators for caches: 304 when If-None-Match names the current
 * entity tag or (without If-None-Match) If-Modified-Since is not older than the last change. Content-Length comes
 * from Koa's Buffer body; HEAD gets the same headers and no body. No Vary: nothing in the answer depends on headers.
 */
export function sendCacheable(ctx: Context, body: Buffer, response: CacheableResponse): void {
  ctx.status = 200;
  ctx.set('Content-Type', response.contentType);
  ctx.set('Cache-Control', response.cacheControl);
  ctx.set('ETag', response.etag);
  if (response.modifiedAt > 0) ctx.set('Last-Modified', new Date(response.modifiedAt).toUTCString());
  ctx.set('Access-Control-Allow-Origin', '*');
  if (notModified(ctx, response)) {
    ctx.status = 304;
    return;
  }
  ctx.body = body;
}

function notModified(ctx: Context, response: CacheableResponse): boolean {
  const ifNoneMatch = ctx.get('If-None-Match');
  if (ifNoneMatch) {
    return ifNoneMatch.length <= 4096 && ifNoneMatch.split(',').some((tag) => {
      const trimmed = tag.trim();
      return trimmed === '*' || trimmed.replace(/^W\//, '') === response.etag;
    });
  }
  const ifModifiedSince = ctx.get('If-Modified-Since');
  if (!ifModifiedSince || response.modifiedAt <= 0 || !response.modifiedAtIdentifies) return false;
  const since = Date.parse(ifModifiedSince);
  return Number.isFinite(since) && Math.floor(response.modifiedAt / 1000) * 1000 <= since;
}

/** A blocking playlist request's `_HLS_msn` / `_HLS_part`, or nothing for a plain reload. */
export interface BlockingQuery {
  readonly msn: number;
  readonly part: number | undefined;
}

const DECIMAL = /^\d{1,10}$/;

/** Reads `_HLS_msn` and `_HLS_part`; anything but small decimal numbers (or a part without an msn) is a 400. */
export function parseBlockingQuery(query: Record<string, string | string[] | undefined>): BlockingQuery | undefined {
  const msn = query._HLS_msn;
  const part = query._HLS_part;
  if (msn === undefined && part === undefined) return undefined;
  if (typeof msn !== 'string' || !DECIMAL.test(msn)) throw new RelayError('BAD_REQUEST', '_HLS_msn must be a media sequence number');
  if (part !== undefined && (typeof part !== 'string' || !DECIMAL.test(part))) throw new RelayError('BAD_REQUEST', '_HLS_part must be a part number');
  return { msn: Number(msn), part: part === undefined ? undefined : Number(part) };
}
