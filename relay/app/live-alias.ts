/** What the short live-player name needs of a stream's config. */
export interface LiveCandidate {
  readonly name: string;
  readonly format: string;
  readonly webSocket: boolean;
}

/** A stream name without its last extension: `test.flv` -> `test`. */
export function baseName(name: string): string {
  const dot = name.lastIndexOf('.');
  return dot > 0 ? name.slice(0, dot) : name;
}

/**
 * The stream that /player/BASE.live plays: the one WebSocket stream whose name is BASE plus an extension or, when
 * several are (test.flv and test.m3u8 share one encoder), the one FLV stream among them. Undefined when none or
 * still ambiguous.
 */
export function liveAliasTarget(streams: readonly LiveCandidate[], base: string): string | undefined {
  const candidates = streams.filter((stream) => stream.webSocket && baseName(stream.name) === base && stream.name !== base);
  if (candidates.length === 1) return candidates[0]!.name;
  const flv = candidates.filter((stream) => stream.format === 'flv');
  return flv.length === 1 ? flv[0]!.name : undefined;
}

/** The live player's URL of a WebSocket stream: /player/BASE.live when that short name leads to it, else /player/NAME.live. */
export function livePlayerUrl(streams: readonly LiveCandidate[], name: string): string {
  const base = baseName(name);
  const short = base !== name && !streams.some((stream) => stream.name === `${base}.live`) && liveAliasTarget(streams, base) === name;
  return short ? `/player/${base}.live` : `/player/${name}.live`;
}
