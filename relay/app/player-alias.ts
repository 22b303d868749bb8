/** The players that have a short name: /player/BASE.live (WebSocket) and /player/BASE.webrtc (WebRTC). */
export type AliasedPlayer = 'live' | 'webrtc';

/** What a short player name needs of a stream's config. */
export interface AliasCandidate {
  readonly name: string;
  readonly format: string;
  readonly webSocket: boolean;
  readonly webrtc: boolean;
}

/** A stream name without its last extension: `test.flv` -> `test`. */
export function baseName(name: string): string {
  const dot = name.lastIndexOf('.');
  return dot > 0 ? name.slice(0, dot) : name;
}

const ALIASED_PLAYERS: readonly string[] = ['live', 'webrtc'];

/** A stream named BASE.live or BASE.webrtc is reached by its own name there, so it is no short name's target. */
function namedLikeAnAlias(name: string): boolean {
  return ALIASED_PLAYERS.includes(name.slice(name.lastIndexOf('.') + 1));
}

function offers(stream: AliasCandidate, player: AliasedPlayer): boolean {
  return player === 'live' ? stream.webSocket : stream.webrtc;
}

/**
 * The stream that /player/BASE.live or /player/BASE.webrtc plays: the one stream offering that player whose name is
 * BASE plus an extension or, when several are (test.flv and test.m3u8 share one encoder), the one FLV stream among
 * them. Undefined when none or still ambiguous.
 */
export function playerAliasTarget(streams: readonly AliasCandidate[], base: string, player: AliasedPlayer): string | undefined {
  const candidates = streams.filter((stream) => offers(stream, player) && baseName(stream.name) === base && stream.name !== base && !namedLikeAnAlias(stream.name));
  if (candidates.length === 1) return candidates[0]!.name;
  const flv = candidates.filter((stream) => stream.format === 'flv');
  return flv.length === 1 ? flv[0]!.name : undefined;
}

/** A stream's page for `player`: /player/BASE.PLAYER when that short name leads to it, else /player/NAME.PLAYER. */
export function aliasedPlayerUrl(streams: readonly AliasCandidate[], name: string, player: AliasedPlayer): string {
  const base = baseName(name);
  const short = base !== name && !streams.some((stream) => stream.name === `${base}.${player}`) && playerAliasTarget(streams, base, player) === name;
  return short ? `/player/${base}.${player}` : `/player/${name}.${player}`;
}
