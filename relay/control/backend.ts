import type { CameraControlConfig, DegreeRange } from '../../conf/control.ts';

/** A camera position in degrees: pan (left negative), tilt (down negative), zoom as the horizontal field of view. */
export interface Ptz {
  readonly pan: number;
  readonly tilt: number;
  readonly zoom: number;
}

/** Move speeds from -1 to 1: pan right, tilt up and zoom in are positive. */
export type Speeds = Ptz;

/** Why a control operation failed; mapped to HTTP statuses only at the edge (routes.ts). */
export type ControlErrorCode =
  | 'BAD_INPUT'
  | 'NOT_HOLDER'
  | 'RATE_LIMITED'
  | 'QUEUE_FULL'
  | 'TOO_MANY_FROM_ADDRESS'
  | 'NO_PRESET'
  | 'CAMERA_TIMEOUT'
  | 'CAMERA_UNREACHABLE'
  | 'CAMERA_REFUSED'
  | 'CAMERA_BUSY';

/** An error whose message is safe to show the viewer who caused it (never a credential or a camera address). */
export class ControlError extends Error {
  override readonly name = 'ControlError';
  constructor(
    readonly code: ControlErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** One camera's pan, tilt and zoom, whatever protocol it speaks. Operations run one at a time, in call order. */
export interface ControlBackend {
  /** Moves at the given speeds; returns the position the camera is sent to. */
  move(speeds: Speeds): Promise<Ptz>;
  /** Sends the camera to an absolute position (already checked against the configured ranges). */
  goto(target: Ptz): Promise<Ptz>;
  /** Stops a move under way. */
  stop(): Promise<void>;
  /** The names of the presets this camera offers. */
  presets(): readonly string[];
  /** Learns the camera's own presets if it has any and they are not known yet (best effort; a page lists them). */
  findPresets?(): Promise<void>;
  gotoPreset(name: string): Promise<Ptz>;
  /** The last known position, asking the camera when none is known yet; undefined when it cannot say. */
  position(): Promise<Ptz | undefined>;
  /** Gives control back to the camera and ends its session. Safe twice. */
  close(): Promise<void>;
}

/** Whether `value` lies within `range`. */
export function within(value: number, range: DegreeRange): boolean {
  return value >= range[0] && value <= range[1];
}

export function clamp(value: number, range: DegreeRange): number {
  return Math.min(range[1], Math.max(range[0], value));
}

/** A range narrowed to what the camera itself reports, when it reports one that overlaps. */
export function narrowed(range: DegreeRange, camera: DegreeRange | undefined): DegreeRange {
  if (!camera) return range;
  const low = Math.max(range[0], camera[0]);
  const high = Math.min(range[1], camera[1]);
  return low < high ? [low, high] : range;
}

/** The configured ranges of a camera, for checks before anything reaches a backend. */
export function rangesOf(config: CameraControlConfig): { pan: DegreeRange; tilt: DegreeRange; zoom: DegreeRange } {
  return { pan: config.panRange, tilt: config.tiltRange, zoom: config.zoomRange };
}
