import type Router from '@koa/router';
import type { Context } from 'koa';
import { plainAddress } from '../../lib/address.ts';
import type { GuardedRelay } from './guard.ts';
import { classifyPath } from './surfaces.ts';
import { signViewerToken } from './viewer-token.ts';

/** Where a cache in front (nginx `auth_request`) asks whether a viewer may have what it would serve from its cache. */
export const EDGE_CHECK_PATH = '/api/viewer-check';
/** The header naming the request the cache is about to answer: its path and query, as the viewer sent them. */
export const ORIGINAL_URI_HEADER = 'x-original-uri';
/** Sent by a trusted proxy on requests it has checked with EDGE_CHECK_PATH: their playlists may be shared. */
export const EDGE_CHECKED_HEADER = 'x-relay-edge-checked';
/** Longest a cache may reuse a "yes": a revoked or expiring token outlives its end by at most this long. */
const ALLOW_MAX_AGE_S = 10;
/** Shared segment tokens change every window and last one to two windows. */
const SEGMENT_TOKEN_WINDOW_S = 60;
const MAX_ORIGINAL_URI = 4096;

/**
 * GET /api/viewer-check with `X-Original-URI: /test/seg.ts?token=T` (and the viewer's Authorization, which
 * auth_request passes on): 204 when the relay itself would serve that path to that client, else 403, or 401 with a
 * challenge on the admin plane (auth_request turns any other status into a 500, so an expired token is a 403 here).
 * A "yes" may be cached for up to ALLOW_MAX_AGE_S, never past the token's expiry; a refusal is `no-store`.
 */
export function registerEdgeCheck(router: Router, relay: GuardedRelay): void {
  const access = relay.access;
  router.get(EDGE_CHECK_PATH, async (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    const original = ctx.get(ORIGINAL_URI_HEADER);
    if (!original.startsWith('/') || original.length > MAX_ORIGINAL_URI) return refuse(ctx, 'X-Original-URI: the path and query of the request to check');
    const url = new URL(original, 'http://relay.invalid');
    const surface = classifyPath(relay.config, url.pathname, relay.startedStreams?.());
    if (surface.plane === 'admin') {
      // An admin fetching a recording through the cache: the same credentials as at the relay, and a 401 to ask for them.
      if ((await access.checkAdmin(ctx.get('authorization') || undefined, ctx.ip)) === 'ok') return allow(ctx, Infinity);
      ctx.set('WWW-Authenticate', 'Basic realm="relay admin", charset="UTF-8"');
      ctx.status = 401;
      return;
    }
    if (surface.plane === 'public') return allow(ctx, Infinity);
    const tokens = url.searchParams.getAll('token');
    const token = tokens.length === 1 ? tokens[0] : undefined;
    const decision = await access.authorizeViewer(surface.scope, surface.access, { token, authorization: ctx.get('authorization') || undefined, address: ctx.ip });
    if (!decision.allowed) return refuse(ctx, decision.reason);
    allow(ctx, decision.via === 'token' && token ? Number(token.split('.', 1)[0]) : Infinity);
  });
}

/** 204, cacheable for up to ALLOW_MAX_AGE_S and never past `expiresAt` (Unix seconds). */
function allow(ctx: Context, expiresAt: number): void {
  ctx.status = 204;
  const maxAge = Math.min(ALLOW_MAX_AGE_S, Math.floor(expiresAt - Date.now() / 1000));
  // Not `private`: nginx caches this answer in its auth_request location, keyed by scope, token and Authorization.
  if (maxAge > 0) ctx.set('Cache-Control', `max-age=${maxAge}`);
}

function refuse(ctx: Context, reason: string): void {
  ctx.status = 403;
  ctx.type = 'text/plain';
  ctx.body = `${reason}\n`;
}

/** True for a request from a TrustProxy address that says it checked the viewer's token at its edge. */
export function checkedAtEdge(ctx: Context, trustProxy: readonly string[]): boolean {
  return ctx.get(EDGE_CHECKED_HEADER) !== '' && trustProxy.includes(plainAddress(ctx.req.socket.remoteAddress));
}

/**
 * The token a shared (edge-checked) live playlist carries into its segment URIs: one per stream and time window, the
 * same for every viewer, so one cached copy serves them all; it opens that stream's segments for 1 to 2 windows.
 */
export function sharedSegmentToken(secret: string, scope: string, nowMs = Date.now()): string {
  const window = Math.floor(nowMs / 1000 / SEGMENT_TOKEN_WINDOW_S);
  return signViewerToken(secret, scope, (window + 2) * SEGMENT_TOKEN_WINDOW_S);
}
