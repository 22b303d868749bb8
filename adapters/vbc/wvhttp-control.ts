/**
 * Canon WebView HTTP camera control, as pure functions: request URLs and reply parsing. Angles travel in 0.01
 * degree units; every reply carries `Livescope-Status` (`0`, or `<code> <message>`), errors often as HTTP 200.
 */

/** The commands the relay sends (WebView HTTP's "compatible" set, which a VB-C10 has). */
export type WvCommand = 'OpenCameraServer' | 'CloseCameraServer' | 'GetCameraControl' | 'ReleaseCameraControl' | 'OperateCamera' | 'GetCameraInfo';

/** A position in degrees: pan (left negative), tilt (down negative), zoom as the horizontal field of view. */
export interface PtzDegrees {
  readonly pan: number;
  readonly tilt: number;
  readonly zoom: number;
}

/** What GetCameraInfo tells: the current position and, where the camera says, its limits (degrees). */
export interface WvCameraInfo {
  readonly position: PtzDegrees | undefined;
  readonly panLimits: readonly [number, number] | undefined;
  readonly tiltLimits: readonly [number, number] | undefined;
  /** Tele (narrowest) to wide (widest) field of view. */
  readonly zoomLimits: readonly [number, number] | undefined;
}

/** A reply's outcome: success, or the camera's own error code and message. */
export type WvStatus = { readonly ok: true } | { readonly ok: false; readonly code: number; readonly message: string };

const ERROR_BANNER = '--- WebView Livescope Http Server Error ---';
/** Longest message kept from a camera's error, so that a hostile camera cannot fill a log line. */
const MAX_MESSAGE = 120;
/** Replies longer than this are not a control answer. */
export const MAX_REPLY_BYTES = 16 * 1024;

/** The camera's status codes the relay acts on. */
export const WV_TOO_MANY_CLIENTS = 503;
export const WV_UNKNOWN_CONNECTION = 501;

/** The URL of one command at `base` (the camera's origin), parameters in a fixed order. */
export function wvUrl(base: string, command: WvCommand, params: Readonly<Record<string, string | number>> = {}): string {
  const url = new URL(`/-wvhttp-01-/${command}`, base);
  for (const [key, value] of Object.entries(params)) url.searchParams.set(key, String(value));
  return url.toString();
}

/** Degrees to the camera's whole 0.01 degree units. */
export function toHundredths(degrees: number): number {
  return Math.round(degrees * 100);
}

/** OperateCamera's parameters for an absolute position. */
export function operateParams(connectionId: string, target: PtzDegrees): Record<string, string | number> {
  return { connection_id: connectionId, pan: toHundredths(target.pan), tilt: toHundredths(target.tilt), zoom: toHundredths(target.zoom) };
}

function clean(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, '?').slice(0, MAX_MESSAGE);
}

/**
 * The outcome of a reply from its HTTP status, its Livescope-Status header and its body: HTTP 503 is "too many
 * clients"; a non-zero Livescope-Status or a body with the error banner is the camera's error.
 */
export function wvStatus(httpStatus: number, livescopeStatus: string | undefined, body: string): WvStatus {
  const header = livescopeStatus?.trim();
  if (header && header !== '0') {
    const match = /^(\d{1,4})\s*(.*)$/.exec(header);
    return { ok: false, code: match ? Number(match[1]) : 0, message: clean(match ? match[2]! : header) || 'error' };
  }
  if (httpStatus === 503) return { ok: false, code: WV_TOO_MANY_CLIENTS, message: 'too many clients' };
  if (httpStatus !== 200) return { ok: false, code: httpStatus, message: `HTTP ${httpStatus}` };
  if (body.startsWith(ERROR_BANNER)) {
    const line = body.slice(ERROR_BANNER.length).trim().split(/\r?\n/)[0] ?? '';
    const match = /^(\d{1,4})\s*(.*)$/.exec(line);
    return { ok: false, code: match ? Number(match[1]) : 0, message: clean(match ? match[2]! : line) || 'error' };
  }
  return { ok: true };
}

/** `key=value` lines (CR LF or LF) as a map; other lines are skipped, the first value of a key kept. */
export function keyValues(body: string): Map<string, string> {
  const values = new Map<string, string>();
  for (const line of body.split(/\r?\n/)) {
    const at = line.indexOf('=');
    if (at <= 0) continue;
    const key = line.slice(0, at).trim();
    if (!values.has(key)) values.set(key, line.slice(at + 1).trim());
  }
  return values;
}

/** OpenCameraServer's `connection_id=XXXX-XXXXXXXX`, or undefined when the reply has none of a sane shape. */
export function parseConnectionId(body: string): string | undefined {
  const id = keyValues(body).get('connection_id');
  return id && /^[0-9A-Za-z-]{1,64}$/.test(id) ? id : undefined;
}

function degrees(values: Map<string, string>, key: string): number | undefined {
  const text = values.get(key);
  if (text === undefined || !/^-?\d{1,6}$/.test(text)) return undefined;
  return Number(text) / 100;
}

function limits(values: Map<string, string>, low: string, high: string): readonly [number, number] | undefined {
  const a = degrees(values, low);
  const b = degrees(values, high);
  return a === undefined || b === undefined ? undefined : [Math.min(a, b), Math.max(a, b)];
}

/** GetCameraInfo's reply: `pan_current_value`, `pan_left_limit`, `tilt_up_limit`, `zoom_wide_limit`... in 0.01 degrees. */
export function parseCameraInfo(body: string): WvCameraInfo {
  const values = keyValues(body);
  const pan = degrees(values, 'pan_current_value');
  const tilt = degrees(values, 'tilt_current_value');
  const zoom = degrees(values, 'zoom_current_value');
  return {
    position: pan === undefined || tilt === undefined || zoom === undefined ? undefined : { pan, tilt, zoom },
    panLimits: limits(values, 'pan_left_limit', 'pan_right_limit'),
    tiltLimits: limits(values, 'tilt_down_limit', 'tilt_up_limit'),
    zoomLimits: limits(values, 'zoom_tele_limit', 'zoom_wide_limit'),
  };
}
