import type { CameraControlConfig, DegreeRange } from '../../conf/control.ts';
import { deviceServiceUrl, mainProfile, OnvifDevice } from '../../adapters/onvif/device.ts';
import { OnvifPtz, type NormalisedPtz, type OnvifPreset } from '../../adapters/onvif/ptz.ts';
import { OnvifError, type OnvifCredentials } from '../../adapters/onvif/soap.ts';
import type { Logger } from '../../lib/log.ts';
import { clamp, ControlError, type ControlBackend, type Ptz, type Speeds } from './backend.ts';
import { SerialRequests } from './serial.ts';

/** How long one move command drives the camera before it stops by itself (a nudge, like one arrow press). */
export const MOVE_SECONDS = 0.5;
const PRESET_RETRY_MS = 30_000;

/** Degrees within `range` from ONVIF's generic -1..1 (pan, tilt). */
function fromSigned(value: number, range: DegreeRange): number {
  return range[0] + ((value + 1) / 2) * (range[1] - range[0]);
}

function toSigned(degrees: number, range: DegreeRange): number {
  return ((clamp(degrees, range) - range[0]) / (range[1] - range[0])) * 2 - 1;
}

/** Zoom 0 is the widest field of view, 1 the narrowest. */
function fromZoom(value: number, range: DegreeRange): number {
  return range[1] - value * (range[1] - range[0]);
}

function toZoom(degrees: number, range: DegreeRange): number {
  return (range[1] - clamp(degrees, range)) / (range[1] - range[0]);
}

const round = (value: number): number => Math.round(value * 100) / 100;

/** A device failure as the control queue reports it to the viewer (no address, no credential). */
function controlError(error: unknown, operation: string): ControlError {
  if (error instanceof ControlError) return error;
  if (!(error instanceof OnvifError)) return new ControlError('CAMERA_REFUSED', `${operation} failed`);
  if (error.code === 'TIMEOUT') return new ControlError('CAMERA_TIMEOUT', `the camera did not answer ${operation} in time`);
  if (error.code === 'UNREACHABLE') return new ControlError('CAMERA_UNREACHABLE', `the camera could not be reached for ${operation}`);
  return new ControlError('CAMERA_REFUSED', `the camera refused ${operation} (${error.message})`);
}

/**
 * ONVIF PTZ control (Profile S): ContinuousMove with a timeout for moves, AbsoluteMove for positions, the camera's own
 * presets beside the configured ones. Positions map the configured degree ranges onto ONVIF's generic spaces.
 */
export class OnvifBackend implements ControlBackend {
  private readonly device: OnvifDevice;
  private ptz: OnvifPtz | undefined;
  private cameraPresets: OnvifPreset[] = [];
  private presetsTriedAt = -Infinity;
  private known: Ptz | undefined;
  private readonly requests = new SerialRequests();

  constructor(
    private readonly config: CameraControlConfig,
    credentials: OnvifCredentials,
    private readonly log: Logger,
  ) {
    if (!config.address) throw new Error('onvif control needs an address');
    this.device = new OnvifDevice(deviceServiceUrl(config.address), credentials, config.timeoutMs);
  }

  move(speeds: Speeds): Promise<Ptz> {
    return this.call('ContinuousMove', async (ptz) => {
      await ptz.continuousMove({ x: speeds.pan, y: speeds.tilt, zoom: speeds.zoom }, MOVE_SECONDS);
      return (await this.read(ptz)) ?? this.known ?? this.centre();
    });
  }

  goto(target: Ptz): Promise<Ptz> {
    return this.call('AbsoluteMove', async (ptz) => {
      const limited = this.limited(target);
      await ptz.absoluteMove(this.normalised(limited));
      this.known = limited;
      return limited;
    });
  }

  stop(): Promise<void> {
    return this.call('Stop', (ptz) => ptz.stop());
  }

  presets(): readonly string[] {
    const configured = this.config.presets.map((preset) => preset.name);
    return [...configured, ...this.cameraPresets.map((preset) => preset.name).filter((name) => !configured.includes(name))];
  }

  gotoPreset(name: string): Promise<Ptz> {
    const configured = this.config.presets.find((preset) => preset.name === name);
    if (configured) return this.goto(configured);
    const own = this.cameraPresets.find((preset) => preset.name === name);
    if (!own) return Promise.reject(new ControlError('NO_PRESET', `no preset named "${name.slice(0, 32).replace(/[^\x20-\x7e]/g, '?')}"`));
    return this.call('GotoPreset', async (ptz) => {
      await ptz.gotoPreset(own.token);
      return (await this.read(ptz)) ?? this.centre();
    });
  }

  position(): Promise<Ptz | undefined> {
    if (this.known) return Promise.resolve(this.known);
    return this.call('GetStatus', (ptz) => this.read(ptz));
  }

  async close(): Promise<void> {
    // Best effort: a camera left moving stops by itself at the end of its timeout anyway.
    if (this.ptz && (await this.requests.close())) await this.ptz.stop().catch(() => {});
  }

  /**
   * Connects, which reads the camera's own presets, unless already connected; a camera that fails is tried again at
   * most every PRESET_RETRY_MS, so that page loads do not each wait out its timeout.
   */
  async findPresets(): Promise<void> {
    if (this.ptz || Date.now() - this.presetsTriedAt < PRESET_RETRY_MS) return;
    this.presetsTriedAt = Date.now();
    await this.call('GetPresets', async () => {}).catch(() => {});
  }

  private call<T>(operation: string, task: (ptz: OnvifPtz) => Promise<T>): Promise<T> {
    return this.requests.run(async () => {
      try {
        return await task(this.ptz ?? (await this.connect()));
      } catch (error) {
        if (error instanceof OnvifError && error.code !== 'FAULT') this.ptz = undefined;
        throw controlError(error, operation);
      }
    });
  }

  /** Finds the PTZ service and profile, and the camera's own presets. */
  private async connect(): Promise<OnvifPtz> {
    const { summary, profile } = await mainProfile(this.device, true);
    if (!summary.ptzUrl || !profile.ptz) throw new ControlError('CAMERA_REFUSED', 'the camera has no PTZ service');
    const ptz = new OnvifPtz(this.device, summary.ptzUrl, profile.token);
    this.cameraPresets = await ptz.presets().catch((error: Error) => {
      this.log.warn(`ONVIF GetPresets failed: ${error.message}`);
      return [];
    });
    this.ptz = ptz;
    return ptz;
  }

  private async read(ptz: OnvifPtz): Promise<Ptz | undefined> {
    const status = await ptz.status().catch(() => undefined);
    if (!status) return undefined;
    this.known = {
      pan: round(fromSigned(status.x, this.config.panRange)),
      tilt: round(fromSigned(status.y, this.config.tiltRange)),
      zoom: round(fromZoom(status.zoom, this.config.zoomRange)),
    };
    return this.known;
  }

  private normalised(target: Ptz): NormalisedPtz {
    return { x: toSigned(target.pan, this.config.panRange), y: toSigned(target.tilt, this.config.tiltRange), zoom: toZoom(target.zoom, this.config.zoomRange) };
  }

  private limited(target: Ptz): Ptz {
    return {
      pan: round(clamp(target.pan, this.config.panRange)),
      tilt: round(clamp(target.tilt, this.config.tiltRange)),
      zoom: round(clamp(target.zoom, this.config.zoomRange)),
    };
  }

  private centre(): Ptz {
    return { pan: fromSigned(0, this.config.panRange), tilt: fromSigned(0, this.config.tiltRange), zoom: this.config.zoomRange[1] };
  }
}
