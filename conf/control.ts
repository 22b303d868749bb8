import type { DirectiveSpec } from './directives.ts';
import type { DirectiveValues, Problems } from './parse.ts';
import type { Access, SecurityConfig } from './security.ts';
import { integer, oneOf, seconds, text, ValueError, type ValueParser } from './values.ts';

/** The control backends a camera may have: its pan, tilt and zoom steered by viewers through the relay. */
export const CONTROL_KINDS = ['none', 'canon-http', 'onvif'] as const;
export type ControlKind = (typeof CONTROL_KINDS)[number];

/** An inclusive range of degrees. */
export type DegreeRange = readonly [number, number];

/** A named position the relay can send the camera to (pan, tilt, zoom in degrees). */
export interface ControlPreset {
  readonly name: string;
  readonly pan: number;
  readonly tilt: number;
  readonly zoom: number;
}

/** A camera's control settings (Control* directives in its Camera block). */
export interface CameraControlConfig {
  readonly kind: ControlKind;
  /** Base URL of the camera's control server (canon-http: where /-wvhttp-01-/ lives); undefined with kind none. */
  readonly address: string | undefined;
  /** Who may ask for control: anyone, or holders of a viewer token signed for `control/CAMERA`. */
  readonly access: Access;
  /** A holder keeps control this long, ms (renewed by activity up to maxHoldMs). */
  readonly holdMs: number;
  /** Longest a holder keeps control while others wait, however active, ms. */
  readonly maxHoldMs: number;
  /** A holder that sends no command for this long loses control, ms. */
  readonly idleMs: number;
  /** Each request to the camera gets this long to answer, ms. */
  readonly timeoutMs: number;
  /** Viewers waiting for control at most, and at most this many of them from one address. */
  readonly maxQueue: number;
  readonly maxPerAddress: number;
  /** Commands a holder may send per second; more are refused with 429. */
  readonly commandsPerSecond: number;
  readonly panRange: DegreeRange;
  readonly tiltRange: DegreeRange;
  readonly zoomRange: DegreeRange;
  readonly presets: readonly ControlPreset[];
  /** The preset the camera goes back to when the last viewer leaves the queue; undefined: it stays where it is. */
  readonly homePreset: string | undefined;
}

const NUMBER = /^-?\d{1,4}(\.\d{1,2})?$/;

/** `MIN MAX` in degrees (up to two decimals, as the camera counts in 0.01 degrees), MIN below MAX, within [low, high]. */
function degreeRange(low: number, high: number): ValueParser<DegreeRange> {
  return (args) => {
    if (args.length !== 2 || !args.every((arg) => NUMBER.test(arg))) return new ValueError(`takes two numbers of degrees, MIN MAX (e.g. ${low} ${high})`);
    const [min, max] = args.map(Number) as [number, number];
    if (min >= max || min < low || max > high) return new ValueError(`${min} ${max} is not a range within ${low} to ${high} (MIN below MAX)`);
    return [min, max] as const;
  };
}

/** `NAME PAN TILT ZOOM`: a preset's name ([A-Za-z0-9._-], at most 32) and its position in degrees. */
const preset: ValueParser<ControlPreset> = (args) => {
  if (args.length !== 4 || !/^[A-Za-z0-9._-]{1,32}$/.test(args[0]!) || !args.slice(1).every((arg) => NUMBER.test(arg))) {
    return new ValueError('takes NAME PAN TILT ZOOM (a name of letters, digits, ".", "_" or "-", then three numbers of degrees)');
  }
  const [pan, tilt, zoom] = args.slice(1).map(Number) as [number, number, number];
  return { name: args[0]!, pan, tilt, zoom };
};

/** A preset's name: a ControlPreset's, or (onvif) one of the camera's own. */
const presetName: ValueParser<string> = (args) =>
  args.length === 1 && /^[A-Za-z0-9._-]{1,32}$/.test(args[0]!) ? args[0]! : new ValueError('takes one preset name (letters, digits, ".", "_" or "-")');

/** The Camera block's control directives, spread into the directive table. */
export const CONTROL_DIRECTIVES: Record<string, DirectiveSpec> = {
  Control: { parse: oneOf(CONTROL_KINDS), default: 'none' },
  ControlAddress: { parse: text },
  ControlAccess: { parse: oneOf(['public', 'token'] as const) },
  ControlHoldSeconds: { parse: seconds(1, 3600), default: 30_000 },
  ControlMaxHoldSeconds: { parse: seconds(1, 86_400), default: 120_000 },
  ControlIdleSeconds: { parse: seconds(0.5, 3600), default: 10_000 },
  ControlTimeout: { parse: seconds(0.1, 60), default: 3_000 },
  ControlMaxQueue: { parse: integer(1, 10_000), default: 100 },
  ControlMaxPerAddress: { parse: integer(1, 10_000), default: 2 },
  ControlCommandRate: { parse: integer(1, 100), default: 10 },
  ControlPanRange: { parse: degreeRange(-360, 360), default: [-180, 180] },
  ControlTiltRange: { parse: degreeRange(-180, 180), default: [-90, 90] },
  ControlZoomRange: { parse: degreeRange(0.01, 360), default: [1, 180] },
  ControlPreset: { parse: preset, repeatable: true, default: [] },
  ControlHomePreset: { parse: presetName },
};

/** Builds a camera's control settings; `source` is its Source URL (canon-http defaults to its origin when it is HTTP). */
export function buildControl(values: DirectiveValues, get: <T>(name: string) => T, source: URL, security: SecurityConfig, problems: Problems, blockLine: number): CameraControlConfig {
  const kind = get<ControlKind>('Control');
  let address = get<string | undefined>('ControlAddress');
  const addressLine = values.get('ControlAddress')?.line ?? values.get('Control')?.line ?? blockLine;
  if (kind === 'canon-http' || kind === 'onvif') {
    if (address === undefined && (source.protocol === 'http:' || source.protocol === 'https:')) address = source.origin;
    // An onvif:// source names the device itself: its control lives at the same address.
    if (address === undefined && kind === 'onvif' && source.protocol === 'onvif:') address = `http://${source.host}${source.pathname === '/' ? '' : source.pathname}`;
    let url: URL | undefined;
    try {
      url = address === undefined ? undefined : new URL(address);
    } catch {
      url = undefined;
    }
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.username || url.password) {
      problems.error(addressLine, `ControlAddress: Control ${kind} needs the camera's http:// address (e.g. http://camera:80); put credentials in Username and Password`);
      address = undefined;
    } else address = kind === 'onvif' ? url.origin + url.pathname.replace(/\/$/, '') : url.origin;
  } else if (values.has('ControlAddress')) problems.warn(addressLine, 'ControlAddress: ignored without Control canon-http or onvif');
  const holdMs = get<number>('ControlHoldSeconds');
  const maxHoldMs = get<number>('ControlMaxHoldSeconds');
  const maxHoldLine = values.get('ControlMaxHoldSeconds')?.line;
  if (maxHoldLine !== undefined && maxHoldMs < holdMs) problems.error(maxHoldLine, 'ControlMaxHoldSeconds: must be at least ControlHoldSeconds');
  const presets = get<Array<{ value: ControlPreset; line: number }>>('ControlPreset');
  const seen = new Set<string>();
  for (const entry of presets) {
    if (seen.has(entry.value.name)) problems.error(entry.line, `ControlPreset: "${entry.value.name}" is defined twice`);
    seen.add(entry.value.name);
  }
  const homePreset = get<string | undefined>('ControlHomePreset');
  // canon-http has only the configured presets; an ONVIF camera may also name its own, known only at run time.
  if (homePreset !== undefined && kind === 'canon-http' && !seen.has(homePreset)) {
    problems.error(values.get('ControlHomePreset')!.line, `ControlHomePreset: no ControlPreset named "${homePreset}"`);
  }
  const access = get<Access | undefined>('ControlAccess') ?? security.defaultAccess;
  if (kind !== 'none' && access === 'token' && !security.viewerTokenSecret) {
    problems.error(values.get('ControlAccess')?.line ?? blockLine, 'ControlAccess: token needs ViewerTokenSecret');
  }
  return {
    kind,
    address: kind === 'none' ? undefined : address,
    access,
    holdMs,
    maxHoldMs: Math.max(maxHoldMs, holdMs),
    idleMs: get('ControlIdleSeconds'),
    timeoutMs: get('ControlTimeout'),
    maxQueue: get('ControlMaxQueue'),
    maxPerAddress: get('ControlMaxPerAddress'),
    commandsPerSecond: get('ControlCommandRate'),
    panRange: get('ControlPanRange'),
    tiltRange: get('ControlTiltRange'),
    zoomRange: get('ControlZoomRange'),
    presets: presets.map((entry) => entry.value),
    homePreset,
  };
}

/** A camera without control, with the table's defaults (cameras made at run time, tests). */
export const NO_CONTROL: CameraControlConfig = Object.freeze<CameraControlConfig>({
  kind: 'none',
  address: undefined,
  access: 'public',
  holdMs: 30_000,
  maxHoldMs: 120_000,
  idleMs: 10_000,
  timeoutMs: 3_000,
  maxQueue: 100,
  maxPerAddress: 2,
  commandsPerSecond: 10,
  panRange: [-180, 180],
  tiltRange: [-90, 90],
  zoomRange: [1, 180],
  presets: [],
  homePreset: undefined,
});
