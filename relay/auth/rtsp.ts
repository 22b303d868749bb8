import type { RtspConnection, RtspReply } from '../rtsp/connection.ts';
import { authorizeViewer } from './access.ts';

type RelayLike = Parameters<typeof authorizeViewer>[0];

/** Streams each RTSP connection was authorised for: SETUP's URI is the Content-Base, which carries no query. */
const authorised = new WeakMap<RtspConnection, Set<string>>();

/**
 * The RTSP server's viewer check at DESCRIBE and SETUP: the token comes in the URL query
 * (`rtsp://relay:8554/test.flv?token=T`) or as the Basic password (`rtsp://viewer:T@relay:8554/test.flv`, which
 * players send after a 401 challenge); a connection that was authorised for a stream stays so for its SETUP.
 * Nothing given: 401 with a Basic challenge; a bad token 403; an expired one 410.
 */
export async function authorizeRtspReader(
  relay: RelayLike,
  streamName: string,
  uri: string,
  authorization: string | undefined,
  connection: RtspConnection,
): Promise<RtspReply | undefined> {
  const query = uri.includes('?') ? new URLSearchParams(uri.slice(uri.indexOf('?') + 1)) : undefined;
  const tokens = query?.getAll('token') ?? [];
  if (tokens.length === 0 && !authorization && authorised.get(connection)?.has(streamName)) return undefined;
  const decision = await authorizeViewer(relay, streamName, { token: tokens.length === 1 ? tokens[0] : undefined, authorization, address: connection.remoteAddress });
  if (decision.allowed) {
    if (decision.via !== 'public') authorised.set(connection, (authorised.get(connection) ?? new Set()).add(streamName));
    return undefined;
  }
  if (decision.status === 403 && !authorization && tokens.length === 0) {
    return { status: 401, headers: [['WWW-Authenticate', 'Basic realm="relay"']] };
  }
  // RTSP has no 429: credentials not checked now are a passing overload, as 503 says.
  return { status: decision.status === 429 ? 503 : decision.status };
}
