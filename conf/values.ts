import type { Size } from './types.ts';

/** A value parser: returns the parsed value, or a string saying what is wrong. */
export type ValueParser<T> = (args: readonly string[]) => T | ValueError;

/** What a value parser returns for a bad value; the caller adds file, line and directive. */
export class ValueError {
  constructor(readonly message: string) {}
}

function one(args: readonly string[]): string | ValueError {
  if (args.length !== 1) return new ValueError(`takes exactly one value, got ${args.length}`);
  return args[0]!;
}

export function integer(min: number, max: number): ValueParser<number> {
  return (args) => {
    const text = one(args);
    if (text instanceof ValueError) return text;
    if (!/^-?\d+$/.test(text)) return new ValueError(`"${text}" is not a whole number`);
    const value = Number(text);
    if (value < min || value > max) return new ValueError(`${value} is out of range (${min} to ${max})`);
    return value;
  };
}

export function decimal(min: number, max: number): ValueParser<number> {
  return (args) => {
    const text = one(args);
    if (text instanceof ValueError) return text;
    if (!/^\d+(\.\d+)?$/.test(text)) return new ValueError(`"${text}" is not a number`);
    const value = Number(text);
    if (value < min || value > max) return new ValueError(`${value} is out of range (${min} to ${max})`);
    return value;
  };
}

/** A port range "FIRST-LAST" with room for at least one even/odd pair (RTP and RTCP). */
export const portRange: ValueParser<readonly [number, number]> = (args) => {
  const text = one(args);
  if (text instanceof ValueError) return text;
  const match = /^(\d{1,5})-(\d{1,5})$/.exec(text);
  if (!match) return new ValueError(`"${text}" is not a port range (e.g. 6970-6999)`);
  const first = Number(match[1]);
  const last = Number(match[2]);
  if (first < 1024 || last > 65535 || last < first) return new ValueError(`${text} is out of range (1024 to 65535, first to last)`);
  if (last - (first + (first % 2)) < 1) return new ValueError(`${text} holds no even/odd port pair`);
  return [first, last] as const;
};

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const DURATION_PATTERN = /^(\d{1,12}(?:\.\d{1,6})?)(ms|[smhd])?$/i;

/** Milliseconds of a duration text ("1.5", "2s", "500ms", "1m", "12h", "7d"; a bare number is seconds), or undefined. */
function durationMs(text: string): number | undefined {
  const match = DURATION_PATTERN.exec(text);
  if (!match) return undefined;
  return Math.round(Number(match[1]) * DURATION_UNITS[(match[2] ?? 's').toLowerCase()]!);
}

/** A duration whose range is given in seconds, returned in milliseconds; every unit of `durationMs` is accepted. */
function durationIn(min: number, max: number, example = '2, 2s, 500ms, 1m'): ValueParser<number> {
  return (args) => {
    const text = one(args);
    if (text instanceof ValueError) return text;
    const ms = durationMs(text);
    if (ms === undefined) return new ValueError(`"${text}" is not a duration (e.g. ${example})`);
    if (ms < min * 1000 || ms > max * 1000) return new ValueError(`${text} is out of range (${min} to ${max})`);
    return ms;
  };
}

/** Seconds (decimals and unit suffixes allowed) returned as milliseconds. */
export function seconds(min: number, max: number): ValueParser<number> {
  return durationIn(min, max);
}

/** A duration returned in seconds (decimals allowed), for directives whose value the relay keeps in seconds. */
export function secondsValue(min: number, max: number, wholeSeconds = false): ValueParser<number> {
  const parse = durationIn(min, max);
  return (args) => {
    const ms = parse(args);
    if (ms instanceof ValueError) return ms;
    if (wholeSeconds && ms % 1000 !== 0) return new ValueError(`${args[0]} is not a whole number of seconds`);
    return ms / 1000;
  };
}

/** A duration with a unit (ms, s, m, h or d), e.g. 7d, 12h; a bare number is seconds; returned as milliseconds. */
export function duration(maxMs: number): ValueParser<number> {
  const parse = durationIn(0, maxMs / 1000, '0, 90s, 30m, 12h, 7d');
  return (args) => {
    const ms = parse(args);
    return ms instanceof ValueError && ms.message.includes('out of range') ? new ValueError(`${args[0]} is out of range (at most ${maxMs / 86_400_000} days)`) : ms;
  };
}

const STORAGE_UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };
const STORAGE_PATTERN = /^(\d{1,15}(?:\.\d{1,6})?)([kmgt]?)$/i;

/** Bytes of a size text ("65536", "512k", "10M", "1.5G", "2T"; binary units), or undefined. */
function sizeBytes(text: string): number | undefined {
  const match = STORAGE_PATTERN.exec(text);
  if (!match) return undefined;
  return Math.round(Number(match[1]) * STORAGE_UNITS[match[2]!.toLowerCase()]!);
}

/** A byte count with an optional k, M, G or T suffix (binary units). */
export function bytes(min: number, max: number, example = 'a byte count (e.g. 512k, 4M, 65536)'): ValueParser<number> {
  return (args) => {
    const text = one(args);
    if (text instanceof ValueError) return text;
    const value = sizeBytes(text);
    if (value === undefined) return new ValueError(`"${text}" is not ${example}`);
    if (value < min || value > max) return new ValueError(`${text} is out of range (${min} to ${max} bytes)`);
    return value;
  };
}

/** A storage size with an optional k, M, G or T suffix (binary units), e.g. 20G; 0 allowed. */
export function storageSize(max: number): ValueParser<number> {
  return bytes(0, max, 'a size (e.g. 0, 500M, 20G, 2T)');
}

/** A bit rate in kbit/s: a bare number or "500k" is kbit/s, "2M" (or "2m") is 2000 kbit/s. */
export function bitRate(min: number, max: number): ValueParser<number> {
  return (args) => {
    const text = one(args);
    if (text instanceof ValueError) return text;
    const match = /^(\d{1,9}(?:\.\d{1,3})?)([kKmM]?)(?:bit\/s|bps)?$/.exec(text);
    if (!match) return new ValueError(`"${text}" is not a bit rate in kbit/s (e.g. 800, 800k, 2M)`);
    const value = Math.round(Number(match[1]) * (match[2]!.toLowerCase() === 'm' ? 1000 : 1));
    if (value < min || value > max) return new ValueError(`${text} is out of range (${min} to ${max})`);
    return value;
  };
}

export const boolean: ValueParser<boolean> = (args) => {
  const text = one(args);
  if (text instanceof ValueError) return text;
  const lower = text.toLowerCase();
  if (['yes', 'on', 'true', '1'].includes(lower)) return true;
  if (['no', 'off', 'false', '0'].includes(lower)) return false;
  return new ValueError(`"${text}" is not yes or no`);
};

export function oneOf<T extends string>(choices: readonly T[]): ValueParser<T> {
  return (args) => {
    const text = one(args);
    if (text instanceof ValueError) return text;
    const found = choices.find((choice) => choice.toLowerCase() === text.toLowerCase());
    return found ?? new ValueError(`"${text}" is not one of ${choices.join(', ')}`);
  };
}

export const text: ValueParser<string> = (args) => one(args);

/** ffserver's size abbreviations, plus WxH. */
const NAMED_SIZES: Record<string, Size> = {
  sqcif: { width: 128, height: 96 },
  qcif: { width: 176, height: 144 },
  cif: { width: 352, height: 288 },
  '4cif': { width: 704, height: 576 },
  qqvga: { width: 160, height: 120 },
  qvga: { width: 320, height: 240 },
  vga: { width: 640, height: 480 },
  svga: { width: 800, height: 600 },
  hd720: { width: 1280, height: 720 },
  hd1080: { width: 1920, height: 1080 },
};

export const size: ValueParser<Size> = (args) => {
  const value = one(args);
  if (value instanceof ValueError) return value;
  const named = NAMED_SIZES[value.toLowerCase()];
  if (named) return named;
  const match = /^(\d{1,5})x(\d{1,5})$/.exec(value);
  if (!match) return new ValueError(`"${value}" is not a size (WxH such as 640x480, or qvga, vga, cif, hd720 ...)`);
  const width = Number(match[1]);
  const height = Number(match[2]);
  if (width < 16 || height < 16 || width > 8192 || height > 8192) return new ValueError(`${value} is out of range (16 to 8192 each way)`);
  if (width % 2 || height % 2) return new ValueError(`${value}: width and height must be even`);
  return { width, height };
};

/** Hex bytes, with or without spaces: "10 10 0b 45 ..." or "10100b45...". */
export function hexBytes(length: number): ValueParser<Buffer> {
  return (args) => {
    const joined = args.join('');
    if (!/^([0-9a-fA-F]{2})+$/.test(joined)) return new ValueError(`"${args.join(' ')}" is not hex bytes`);
    const value = Buffer.from(joined, 'hex');
    if (value.length !== length) return new ValueError(`needs exactly ${length} bytes, got ${value.length}`);
    return value;
  };
}

/** Levenshtein distance, for "did you mean" suggestions. */
export function editDistance(a: string, b: string): number {
  const previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = previous[0]!;
    previous[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = previous[j]!;
      previous[j] = Math.min(above + 1, previous[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return previous[b.length]!;
}

/** The closest candidate to `name` (case-insensitive), if it is close enough to be a likely typo. */
export function closest(name: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const distance = editDistance(name.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return bestDistance <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined;
}
