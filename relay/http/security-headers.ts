import type { Middleware } from 'koa';

/**
 * Only the relay's own scripts, styles and media: the pages have no inline script or style. hls.js runs its demuxer
 * in a worker made from a blob: URL and feeds the video through MediaSource (blob: media).
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "media-src 'self' blob:",
  "connect-src 'self'",
  "worker-src 'self' blob:",
  // The relay's own player may be framed by its pages (an embed preview, a wall of cameras).
  "frame-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

/**
 * Security headers on every response: the CSP above; no MIME sniffing; no Referer (a token in a page's URL must not
 * leak to other sites). Player pages are made to be embedded in iframes elsewhere; every other page is not.
 */
export function securityHeaders(): Middleware {
  return async (ctx, next) => {
    const embeddable = ctx.path.startsWith('/player/');
    // No frame-ancestors at all for the player: `*` would still refuse pages of no network origin (a local file, about:blank).
    ctx.set('Content-Security-Policy', embeddable ? CONTENT_SECURITY_POLICY : `${CONTENT_SECURITY_POLICY}; frame-ancestors 'none'`);
    if (!embeddable) ctx.set('X-Frame-Options', 'DENY');
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.set('Referrer-Policy', 'no-referrer');
    await next();
  };
}
