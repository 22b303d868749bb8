import { authorizeViewer, type AccessHost } from './access.ts';

/** What the check needs of an RTSP connection: who it is (kept as the key of what it was authorised with) and its address. */
export interface ReaderConnection {
  readonly remoteAddress: string;
}

/** The RTSP answer to a refused reader: a status and the headers it needs (a challenge). */
export interface ReaderRefusal {
  readonly status: number;
  readonly headers?: ReadonlyArray<readonly [string, string]>;
}

type RelayLike = AccessHost;

/** What a request presented: a `?token=` value and/or an Authorization header. */
interface Credentials {
  readonly token: string | undefined;
  readonly authorization: string | undefined;
}

/**
 * The credentials each RTSP connection was authorised with, by stream: SETUP's and PLAY's URIs are the Content-Base,
 * which carries no query, so a reader that gave its token in the DESCRIBE URL is checked again with that token.
 */
const authorised = new WeakMap<ReaderConnection, Map<string, Credentials>>();

/**
 * The RTSP server's viewer check at DESCRIBE, SETUP and PLAY: the token comes in the URL query
 * (`rtsp://relay:8554/test.flv?token=T`) or as the Basic password (`rtsp://viewer:T@relay:8554/test.flv`, which
 * players send after a 401 challenge). A request with neither, on a connection that was authorised for the stream, is
 * checked again with what that connection gave, against the current config: a token that has expired since, or a
 * secret rotated by a reload, ends its rights. Nothing given: 401 with a Basic challenge; a bad token 403; an expired
 * one 410.
 */
export async function authorizeRtspReader(
  relay: RelayLike,
  streamName: string,
  uri: string,
  authorization: string | undefined,
  connection: ReaderConnection,
): Promise<ReaderRefusal | undefined> {
  const query = uri.includes('?') ? new URLSearchParams(uri.slice(uri.indexOf('?') + 1)) : undefined;
  const tokens = query?.getAll('token') ?? [];
  const given = tokens.length === 0 && !authorization ? undefined : { token: tokens.length === 1 ? tokens[0] : undefined, authorization };
  const remembered = given ? undefined : authorised.get(connection)?.get(streamName);
  const credentials = given ?? remembered ?? { token: undefined, authorization: undefined };
  const decision = await authorizeViewer(relay, streamName, { ...credentials, address: connection.remoteAddress });
  if (decision.allowed) {
    if (decision.via !== 'public' && given) authorised.set(connection, (authorised.get(connection) ?? new Map<string, Credentials>()).set(streamName, given));
    return undefined;
  }
  if (decision.status === 403 && !given && !remembered) {
    return { status: 401, headers: [['WWW-Authenticate', 'Basic realm="relay"']] };
  }
  // RTSP has no 429: credentials not checked now are a passing overload, as 503 says.
  return { status: decision.status === 429 ? 503 : decision.status };
}
