import type { HlsPackager } from './packager.ts';

/** What an HLS request under a stream's prefix asks for; the kinds are counted per stream. */
export type HlsRequestKind = 'playlist' | 'segment' | 'part' | 'init';

/** A packaged resource ready to serve. */
export interface HlsResource {
  readonly kind: Exclude<HlsRequestKind, 'playlist'>;
  readonly data: Buffer;
  readonly createdAt: number;
}

/** Every name the packager gives out: `<run>-<sequence>.ts|m4s`, `<run>-<sequence>.<part>.m4s`, `<run>-init<n>.mp4`. */
const NAME = /^([0-9a-z]{1,32})-(?:(\d{1,10})(?:\.(\d{1,6}))?\.(ts|m4s)|init(\d{1,10})\.mp4)$/;

/** A request name parsed: which kind, and where to find it. */
export type ParsedName =
  | { readonly kind: 'segment'; readonly run: string; readonly sequence: number }
  | { readonly kind: 'part'; readonly run: string; readonly sequence: number; readonly part: number }
  | { readonly kind: 'init'; readonly run: string };

/** Parses a name under a stream's prefix; undefined for anything the packager never names so. */
export function parseHlsName(name: string): ParsedName | undefined {
  const match = NAME.exec(name);
  if (!match) return undefined;
  const [, run, sequence, part, extension] = match;
  if (sequence === undefined) return { kind: 'init', run: run! };
  if (part !== undefined) return extension === 'm4s' ? { kind: 'part', run: run!, sequence: Number(sequence), part: Number(part) } : undefined;
  return { kind: 'segment', run: run!, sequence: Number(sequence) };
}

/**
 * Finds the resource a name refers to among what the packager still keeps; `next-part` for the part the playlist
 * hints at but which does not exist yet (a request for it may wait), undefined for anything else.
 */
export function findHlsResource(packager: HlsPackager, name: string): HlsResource | 'next-part' | undefined {
  const parsed = parseHlsName(name);
  if (!parsed || parsed.run !== packager.runId) return undefined;
  const full = `${packager.prefix}${name}`;
  if (parsed.kind === 'init') {
    const inits = [packager.currentInit, ...packager.segments.map((segment) => segment.init)];
    const init = inits.find((candidate) => candidate?.name === full);
    return init ? { kind: 'init', data: init.data, createdAt: 0 } : undefined;
  }
  const open = packager.open;
  if (parsed.kind === 'segment') {
    const segment = packager.segments.find((candidate) => candidate.sequence === parsed.sequence && candidate.name === full);
    return segment?.data ? { kind: 'segment', data: segment.data, createdAt: segment.createdAt } : undefined;
  }
  const owner = open?.sequence === parsed.sequence ? open : packager.segments.find((candidate) => candidate.sequence === parsed.sequence);
  const part = owner?.parts[parsed.part];
  if (part && part.name === full) return { kind: 'part', data: part.data, createdAt: part.createdAt };
  if (owner === open && open && parsed.part === open.parts.length && packager.options.container === 'fmp4') return 'next-part';
  return undefined;
}
