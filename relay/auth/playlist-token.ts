/**
 * Carries a viewer token from a playlist's own URL into the relative URIs it lists (segments, parts, init sections,
 * preload hints), so a player given `/test.m3u8?token=T` fetches `test/seg1.ts?token=T` without knowing about tokens.
 * Absolute URIs are left alone: the token must not travel to another host.
 */
export function addTokenToPlaylist(playlist: string, token: string): string {
  const withToken = (uri: string): string => {
    if (/^[a-z][a-z0-9+.-]*:/i.test(uri) || uri.startsWith('//')) return uri;
    const [path, fragment] = uri.split('#', 2) as [string, string | undefined];
    const query = `${path.includes('?') ? '&' : '?'}token=${encodeURIComponent(token)}`;
    return `${path}${query}${fragment === undefined ? '' : `#${fragment}`}`;
  };
  return playlist
    .split('\n')
    .map((line) => {
      const trimmed = line.trim();
      if (trimmed === '') return line;
      if (!trimmed.startsWith('#')) return withToken(trimmed) + (line.endsWith('\r') ? '\r' : '');
      return line.replace(/URI="([^"]*)"/g, (_, uri: string) => `URI="${withToken(uri)}"`);
    })
    .join('\n');
}
