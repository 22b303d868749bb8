import type { RelayConfig, StreamConfig } from '../../conf/types.ts';
import type { Access } from '../../conf/security.ts';

/** What a request path is, for authorisation: an admin page or API, something a viewer watches, or open to all. */
export type Surface =
  | { readonly plane: 'admin' }
  | { readonly plane: 'viewer'; readonly scope: string; readonly access: Access }
  | { readonly plane: 'public' };

const ADMIN: Surface = { plane: 'admin' };
const PUBLIC: Surface = { plane: 'public' };

/** Prefixes of the admin plane: every path under them, whatever registers it later. */
const ADMIN_PREFIXES = ['/admin', '/api', '/record', '/recordings', '/wall'];
/** The push gateway authenticates its publishers with its own API keys; the edge check checks viewer tokens itself. */
const OWN_SCHEME_PREFIXES = ['/api/source', '/api/viewer-check'];

function under(path: string, prefix: string): boolean {
  return path === prefix || path.startsWith(`${prefix}/`);
}

/**
 * Decodes, resolves dot segments, collapses repeated slashes and drops a trailing one: every way a path may still match
 * a route. Letter case is kept (file names under /vod/ differ by case); matching lower-cases where routes ignore case.
 */
function normalise(path: string): string | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    return undefined;
  }
  const segments: string[] = [];
  // Dot segments are resolved as a client or a proxy in front would resolve them.
  for (const segment of decoded.split('/')) {
    if (segment === '..') segments.pop();
    else if (segment !== '.' && segment !== '') segments.push(segment);
  }
  return `/${segments.join('/')}`;
}

/** The streams a path may name: the configured ones and those started at run time (the VOD API), alike. */
interface Streams {
  readonly config: RelayConfig;
  readonly all: readonly StreamConfig[];
}

function streamNamed(streams: Streams, name: string): StreamConfig | undefined {
  return streams.all.find((stream) => stream.name.toLowerCase() === name);
}

function viewerOf(streams: Streams, stream: StreamConfig): Surface {
  return { plane: 'viewer', scope: stream.name, access: stream.access ?? streams.config.security.defaultAccess };
}

/** The HLS stream whose segments (and parts) live under `/FOLDER/`: `/test/...` belongs to `test.m3u8`. */
function hlsStreamOfFolder(streams: Streams, folder: string): StreamConfig | undefined {
  return streams.all.find((stream) => stream.format === 'hls' && stream.name.replace(/\.m3u8$/i, '').toLowerCase() === folder);
}

/** What viewers of a controllable camera may do (`/api/control/CAM/...`); the operator's actions stay admin-only. */
const CONTROL_VIEWER_ACTIONS = new Set(['', 'request', 'events', 'move', 'goto', 'stop', 'preset', 'leave']);

/** `/api/control/CAM[/ACTION]` for a camera with control: the viewer plane, scope `control/CAM`, its ControlAccess. */
function controlSurface(config: RelayConfig, parts: readonly string[]): Surface | undefined {
  if (parts[0] !== 'api' || parts[1] !== 'control' || !parts[2] || parts.length > 4 || !CONTROL_VIEWER_ACTIONS.has(parts[3] ?? '')) return undefined;
  const camera = config.cameras.find((candidate) => candidate.name.toLowerCase() === parts[2]);
  if (!camera) return undefined;
  // Player pages ask every camera whether it has control: a camera without it answers 404, never an admin challenge.
  if (camera.control.kind === 'none') return PUBLIC;
  return { plane: 'viewer', scope: `control/${camera.name}`, access: camera.control.access };
}

/**
 * The scope of a file under /vod/ or /live/ (first path part, letter case kept): `/vod/movie.mp4`, its package
 * `/vod/movie.mp4.m3u8/...` and its player page `/player/vod/movie.mp4` all are `vod/movie.mp4`.
 */
function fileScope(prefix: string, part: string): string {
  return `${prefix}/${prefix === 'vod' ? part.replace(/\.m3u8$/i, '') : part}`;
}

function classifyNormalised(streams: Streams, cased: string): Surface {
  const { config } = streams;
  const path = cased.toLowerCase();
  if (OWN_SCHEME_PREFIXES.some((prefix) => under(path, prefix))) return PUBLIC;
  const control = controlSurface(config, path.split('/').slice(1));
  if (control) return control;
  if (path === '/' || path === '/stat.json' || ADMIN_PREFIXES.some((prefix) => under(path, prefix))) return ADMIN;
  if (path === '/metrics') return config.security.metricsAuth ? ADMIN : PUBLIC;
  if (under(path, '/assets')) return PUBLIC;
  const parts = path.split('/').slice(1);
  const casedParts = cased.split('/').slice(1);
  // Files under /vod/ and /live/ have no Stream block: DefaultAccess decides, per first path part (its page too).
  const fileAt = parts[0] === 'player' ? 1 : 0;
  if ((parts[fileAt] === 'vod' || parts[fileAt] === 'live') && casedParts[fileAt + 1]) {
    return { plane: 'viewer', scope: fileScope(parts[fileAt]!, casedParts[fileAt + 1]!), access: config.security.defaultAccess };
  }
  // A player page and its state (`/player/NAME/state`) are the stream's, as its viewers are.
  if (parts[0] === 'player' && (parts.length === 2 || (parts.length === 3 && parts[2] === 'state'))) {
    // `/player/NAME.live` (the WebSocket player) is the stream's page too.
    const stream = streamNamed(streams, parts[1]!) ?? (parts.length === 2 && parts[1]!.endsWith('.live') ? streamNamed(streams, parts[1]!.slice(0, -5)) : undefined);
    return stream ? viewerOf(streams, stream) : PUBLIC;
  }
  // `/NAME.ws` (the stream over a WebSocket) is the stream's, unless a stream is itself named so.
  const wsName = parts.length === 1 && parts[0]!.endsWith('.ws') ? parts[0]!.slice(0, -3) : undefined;
  const stream = streamNamed(streams, parts[0]!) ?? (wsName ? streamNamed(streams, wsName) : undefined);
  if (stream && stream.format === 'status') return ADMIN;
  if (stream && parts.length === 1) return viewerOf(streams, stream);
  // A WHEP offer is a viewer's request like a GET of the stream; its session URL (`/NAME/whep/ID`) is the capability.
  if (stream && parts.length === 2 && parts[1] === 'whep') return viewerOf(streams, stream);
  const hls = parts.length > 1 ? hlsStreamOfFolder(streams, parts[0]!) : undefined;
  if (hls) return viewerOf(streams, hls);
  return PUBLIC;
}

const RANK = { public: 0, viewer: 1, admin: 2 } as const;

/**
 * Classifies a request path by its raw and its decoded form and keeps the stricter answer, so that `/STAT.JSON`,
 * `/stat%2Ejson` or `//stat.json/` are as protected as `/stat.json`. A path that does not decode is admin-only.
 * `started` are the streams started at run time, classified by the same rule as configured ones.
 */
export function classifyPath(config: RelayConfig, rawPath: string, started: readonly StreamConfig[] = []): Surface {
  const decoded = normalise(rawPath);
  if (decoded === undefined) return ADMIN;
  const streams: Streams = { config, all: started.length > 0 ? [...config.streams, ...started] : config.streams };
  const raw = classifyNormalised(streams, rawPath);
  const clean = classifyNormalised(streams, decoded);
  return RANK[clean.plane] >= RANK[raw.plane] ? clean : raw;
}
