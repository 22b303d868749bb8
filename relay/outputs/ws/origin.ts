/**
 * Whether a page at `origin` may open a WebSocket here. Browsers send Origin on every WebSocket upgrade and, unlike
 * fetch, do not enforce CORS on it, so the relay does: its own pages (the origin's host is the request's Host), the
 * origins WebSocketAllowedOrigins lists, or any with `*`. A client without Origin is not a browser page and is let in.
 */
export function originAllowed(origin: string | undefined, host: string, allowed: readonly string[]): boolean {
  if (origin === undefined) return true;
  if (allowed.includes('*')) return true;
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false; // "null" (a sandboxed frame, a file) and anything else that is not an origin
  }
  if (host !== '' && url.host.toLowerCase() === host.toLowerCase()) return true;
  return allowed.includes(url.origin.toLowerCase());
}
