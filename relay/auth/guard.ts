import type { Context, Middleware, Next } from 'koa';
import { clientAddress } from '../http/client-address.ts';
import { plainAddress } from '../../lib/address.ts';
import { markAuthorised } from '../http/connection-limits.ts';
import type { AccessControl, AccessHost, AdminCheck } from './access.ts';
import { checkedAtEdge, sharedSegmentToken } from './edge-check.ts';
import { addTokenToPlaylist } from './playlist-token.ts';
import { classifyPath } from './surfaces.ts';
import { looksLikeViewerToken } from './viewer-token.ts';

/** The relay as the guard sees it. */
export type GuardedRelay = AccessHost;

/**
 * A Host header: a name or address and an optional port, or none at all (HTTP/1.0); anything else is refused before it
 * reaches a page or a redirect.
 */
const HOST_PATTERN = /^(?:(?:[A-Za-z0-9.-]{1,253}|\[[0-9A-Fa-f:.]{2,45}\])(?::\d{1,5})?)?$/;

/**
 * Sends 401 with the challenges this relay accepts (Basic for people, Bearer for scripts), or 429 when the credentials
 * were not checked because too many checks are under way.
 */
function unauthorised(ctx: Context, check: AdminCheck = 'wrong'): void {
  if (check === 'busy') return tooBusy(ctx);
  ctx.status = 401;
  ctx.set('WWW-Authenticate', 'Basic realm="relay admin", charset="UTF-8"');
  ctx.append('WWW-Authenticate', 'Bearer realm="relay admin"');
  ctx.type = 'text/plain';
  ctx.body = 'authentication required\n';
}

/** 429: credentials not checked now (one check at a time per address, a few at once in all). */
function tooBusy(ctx: Context): void {
  ctx.status = 429;
  ctx.set('Retry-After', '1');
  ctx.type = 'text/plain';
  ctx.body = 'too many credential checks at once; try again shortly\n';
}

/** The token a request carries in its query, if it is one (a repeated parameter is not). */
function queryToken(ctx: Context): string | undefined {
  const token = ctx.query.token;
  return typeof token === 'string' ? token : undefined;
}

/**
 * The HTTP edge's gate, one middleware for every route: resolves the client address (TrustProxy), refuses bad Host
 * headers, applies RedirectToHTTPS and MaxClientsPerIP for proxied clients, then authorises by surface: the admin plane
 * (/, /stat.*, /metrics, /api/*, /record/*, /wall) wants admin credentials, the viewer plane (streams, HLS segments and
 * parts, player pages, /vod/) a token where the stream's Access is token. Routes added later under those prefixes
 * are covered without registering anything.
 */
export function accessGuard(relay: GuardedRelay): Middleware {
  const access = relay.access;
  const forwardedInFlight = new Map<string, number>();
  return async (ctx, next) => {
    const security = relay.config.security;
    const peer = plainAddress(ctx.req.socket.remoteAddress);
    ctx.request.ip = clientAddress(peer, ctx.get('x-forwarded-for') || undefined, security.trustProxy);
    if (!HOST_PATTERN.test(ctx.get('host'))) {
      ctx.status = 400;
      ctx.type = 'text/plain';
      ctx.body = 'bad Host header\n';
      return;
    }
    if (security.redirectToHttps && !(ctx.req.socket as { encrypted?: boolean }).encrypted) {
      ctx.status = 308;
      ctx.redirect(`https://${ctx.hostname.includes(':') ? `[${ctx.hostname}]` : ctx.hostname}:${security.httpsPort}${ctx.url}`);
      return;
    }
    if (security.maxClientsPerIp > 0 && peer !== ctx.ip) {
      if (!holdForwardedSlot(ctx, forwardedInFlight, security.maxClientsPerIp)) {
        ctx.status = 429;
        ctx.type = 'text/plain';
        ctx.body = 'too many connections from this address\n';
        return;
      }
    }
    await authorise(ctx, next, relay, access);
  };
}

async function authorise(ctx: Context, next: Next, relay: GuardedRelay, access: AccessControl): Promise<void> {
  const surface = classifyPath(relay.config, ctx.path, relay.startedStreams?.());
  if (surface.plane === 'admin') {
    const check = await access.checkAdmin(ctx.get('authorization') || undefined, ctx.ip);
    if (check !== 'ok') return unauthorised(ctx, check);
    markAuthorised(ctx.req.socket);
    return next();
  }
  if (surface.plane === 'public') {
    markAuthorised(ctx.req.socket);
    return next();
  }
  const token = queryToken(ctx);
  const decision = await access.authorizeViewer(surface.scope, surface.access, { token, authorization: ctx.get('authorization') || undefined, address: ctx.ip });
  if (!decision.allowed) {
    ctx.status = decision.status;
    if (decision.status === 429) ctx.set('Retry-After', '1');
    ctx.type = 'text/plain';
    ctx.body = `${decision.reason}\n`;
    return;
  }
  markAuthorised(ctx.req.socket);
  await next();
  if (decision.via === 'token' && token && looksLikeViewerToken(token) && isPlaylist(ctx)) {
    const text = Buffer.isBuffer(ctx.body) ? ctx.body.toString('utf8') : typeof ctx.body === 'string' ? ctx.body : undefined;
    if (text === undefined) return;
    const secret = relay.config.security.viewerTokenSecret;
    // Behind a cache that checks every viewer's token itself (nginx auth_request), a live playlist carries a token
    // shared by all its viewers and stays cacheable; a VOD playlist is played for longer than such a token lasts.
    if (secret && checkedAtEdge(ctx, relay.config.security.trustProxy) && !/^#EXT-X-ENDLIST/m.test(text)) {
      ctx.body = addTokenToPlaylist(text, sharedSegmentToken(secret, surface.scope));
      // The validators name the playlist, not its token: a 304 must not keep a copy whose token has run out.
      ctx.remove('ETag');
      ctx.remove('Last-Modified');
      return;
    }
    ctx.body = addTokenToPlaylist(text, token);
    // Each viewer's copy now carries its own token: a shared cache (nginx) must not hand it to another viewer.
    const cacheControl = ctx.response.get('Cache-Control');
    ctx.set('Cache-Control', /\bpublic\b/.test(cacheControl) ? cacheControl.replace(/\bpublic\b/, 'private') : `private${cacheControl ? `, ${cacheControl}` : ''}`);
  }
}

function isPlaylist(ctx: Context): boolean {
  return ctx.status === 200 && /mpegurl/i.test(ctx.response.type);
}

/** Counts a proxied client's requests in flight against MaxClientsPerIP; false when it is over. */
function holdForwardedSlot(ctx: Context, inFlight: Map<string, number>, max: number): boolean {
  const address = ctx.ip;
  const now = inFlight.get(address) ?? 0;
  if (now >= max) return false;
  inFlight.set(address, now + 1);
  ctx.res.once('close', () => {
    const left = (inFlight.get(address) ?? 1) - 1;
    if (left > 0) inFlight.set(address, left);
    else inFlight.delete(address);
  });
  return true;
}

/**
 * Admin credentials for one route, for surfaces outside the prefixes the guard already knows:
 * `router.get('/somewhere', requireAdmin(relay), handler)`.
 */
export function requireAdmin(relay: GuardedRelay): Middleware {
  const access = relay.access;
  return async (ctx, next) => {
    const check = await access.checkAdmin(ctx.get('authorization') || undefined, ctx.ip);
    if (check !== 'ok') return unauthorised(ctx, check);
    return next();
  };
}
