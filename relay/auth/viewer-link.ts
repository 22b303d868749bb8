import { looksLikeViewerToken } from './viewer-token.ts';

/**
 * A stream URL carrying the viewer token the current request came with (a player page opened as
 * /player/NAME?token=T plays /NAME?token=T and offers an iframe of itself with T); unchanged when there is no token,
 * or the query holds something else.
 */
export function withViewerToken(url: string, token: unknown): string {
  if (typeof token !== 'string' || !looksLikeViewerToken(token)) return url;
  return `${url}${url.includes('?') ? '&' : '?'}token=${encodeURIComponent(token)}`;
}
