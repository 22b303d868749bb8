import type { CameraControlConfig, DegreeRange } from '../../conf/control.ts';
import {
  MAX_REPLY_BYTES, operateParams, parseCameraInfo, parseConnectionId, WV_TOO_MANY_CLIENTS, WV_UNKNOWN_CONNECTION,
  wvStatus, wvUrl, type WvCommand, type WvStatus,
} from '../../adapters/vbc/wvhttp-control.ts';
import type { Logger } from '../../lib/log.ts';
import { clamp, ControlError, narrowed, type ControlBackend, type Ptz, type Speeds } from './backend.ts';
import { SerialRequests } from './serial.ts';
import { boundedBody } from '../../lib/bounded-body.ts';

/** Degrees one move command at full speed turns (WebView HTTP has absolute positions only: a move is one step). */
const PAN_TILT_STEP = 5;
const ZOOM_STEP = 5;

interface Reply {
  readonly status: WvStatus;
  readonly body: string;
}


/**
 * Canon WebView HTTP control (`/-wvhttp-01-/`): a session (OpenCameraServer), control asked with GetCameraControl,
 * positions sent with OperateCamera in 0.01 degrees, read with GetCameraInfo. A command the camera refuses because its
 * session or control was lost (taken by another client, session timed out) gets one fresh attempt.
 */
export class CanonHttpBackend implements ControlBackend {
  private connectionId: string | undefined;
  private hasControl = false;
  private known: Ptz | undefined;
  private cameraLimits: { pan?: DegreeRange | undefined; tilt?: DegreeRange | undefined; zoom?: DegreeRange | undefined } = {};
  private readonly requests = new SerialRequests();
  private readonly authorization: string | undefined;

  constructor(
    private readonly config: CameraControlConfig,
    credentials: { username: string | undefined; password: string | undefined },
    private readonly log: Logger,
  ) {
    if (!config.address) throw new Error('canon-http control needs an address');
    this.authorization = credentials.username !== undefined
      ? `Basic ${Buffer.from(`${credentials.username}:${credentials.password ?? ''}`).toString('base64')}`
      : undefined;
  }

  move(speeds: Speeds): Promise<Ptz> {
    return this.serial(async () => {
      const from = this.known ?? (await this.readPosition()) ?? this.centre();
      return this.operate({
        pan: from.pan + speeds.pan * PAN_TILT_STEP,
        tilt: from.tilt + speeds.tilt * PAN_TILT_STEP,
        zoom: from.zoom - speeds.zoom * ZOOM_STEP,
      });
    });
  }

  goto(target: Ptz): Promise<Ptz> {
    return this.serial(() => this.operate(target));
  }

  /** Absolute moves end at their target by themselves: there is nothing to stop. */
  stop(): Promise<void> {
    return this.serial(async () => {});
  }

  presets(): readonly string[] {
    return this.config.presets.map((preset) => preset.name);
  }

  gotoPreset(name: string): Promise<Ptz> {
    const preset = this.config.presets.find((candidate) => candidate.name === name);
    if (!preset) return Promise.reject(new ControlError('NO_PRESET', `no preset named "${name.slice(0, 32).replace(/[^\x20-\x7e]/g, '?')}"`));
    return this.goto(preset);
  }

  position(): Promise<Ptz | undefined> {
    if (this.known) return Promise.resolve(this.known);
    return this.serial(() => this.readPosition());
  }

  async close(): Promise<void> {
    if (!(await this.requests.close())) return;
    const id = this.connectionId;
    if (!id) return;
    this.connectionId = undefined;
    // Best effort: a camera that is gone frees the session itself after its own timeout.
    if (this.hasControl) await this.request('ReleaseCameraControl', { connection_id: id }).catch(() => {});
    await this.request('CloseCameraServer', { connection_id: id }).catch(() => {});
  }

  private serial<T>(task: () => Promise<T>): Promise<T> {
    return this.requests.run(task);
  }

  private centre(): Ptz {
    const mid = (range: DegreeRange): number => (range[0] + range[1]) / 2;
    return { pan: mid(this.config.panRange), tilt: mid(this.config.tiltRange), zoom: this.config.zoomRange[1] };
  }

  private limited(target: Ptz): Ptz {
    const round = (value: number): number => Math.round(value * 100) / 100;
    return {
      pan: round(clamp(target.pan, narrowed(this.config.panRange, this.cameraLimits.pan))),
      tilt: round(clamp(target.tilt, narrowed(this.config.tiltRange, this.cameraLimits.tilt))),
      zoom: round(clamp(target.zoom, narrowed(this.config.zoomRange, this.cameraLimits.zoom))),
    };
  }

  private async operate(wanted: Ptz): Promise<Ptz> {
    for (let attempt = 0; ; attempt++) {
      await this.acquire();
      const target = this.limited(wanted);
      const reply = await this.request('OperateCamera', operateParams(this.connectionId!, target));
      if (reply.status.ok) {
        this.known = target;
        return target;
      }
      this.forget(reply.status.code);
      if (attempt > 0) throw this.refusal('OperateCamera', reply.status);
      this.log.warn(`the camera refused OperateCamera (${reply.status.code} ${reply.status.message}); asking for control again`);
    }
  }

  /** Drops what a refusal says is lost: the session (unknown connection id) or only control. */
  private forget(code: number): void {
    this.hasControl = false;
    if (code === WV_UNKNOWN_CONNECTION) this.connectionId = undefined;
  }

  private async acquire(): Promise<void> {
    if (!this.connectionId) {
      const reply = await this.request('OpenCameraServer');
      if (!reply.status.ok) throw this.refusal('OpenCameraServer', reply.status);
      const id = parseConnectionId(reply.body);
      if (!id) throw new ControlError('CAMERA_REFUSED', 'the camera answered OpenCameraServer without a connection id');
      this.connectionId = id;
      this.hasControl = false;
    }
    if (this.hasControl) return;
    const reply = await this.request('GetCameraControl', { connection_id: this.connectionId });
    if (!reply.status.ok) {
      this.forget(reply.status.code);
      throw this.refusal('GetCameraControl', reply.status);
    }
    this.hasControl = true;
    if (!this.known) await this.readPosition();
  }

  private async readPosition(): Promise<Ptz | undefined> {
    if (!this.connectionId) {
      const reply = await this.request('OpenCameraServer');
      if (!reply.status.ok) throw this.refusal('OpenCameraServer', reply.status);
      this.connectionId = parseConnectionId(reply.body);
      if (!this.connectionId) return undefined;
    }
    const reply = await this.request('GetCameraInfo', { connection_id: this.connectionId });
    if (!reply.status.ok) {
      this.forget(reply.status.code);
      return undefined;
    }
    const info = parseCameraInfo(reply.body);
    this.cameraLimits = { pan: info.panLimits, tilt: info.tiltLimits, zoom: info.zoomLimits };
    this.known = info.position ?? this.known;
    return this.known;
  }

  private refusal(command: WvCommand, status: WvStatus): ControlError {
    if (status.ok) return new ControlError('CAMERA_REFUSED', `${command} failed`);
    if (status.code === WV_TOO_MANY_CLIENTS) return new ControlError('CAMERA_BUSY', 'the camera has too many clients');
    return new ControlError('CAMERA_REFUSED', `the camera refused ${command} (${status.code} ${status.message})`);
  }

  private async request(command: WvCommand, params: Record<string, string | number> = {}): Promise<Reply> {
    const url = wvUrl(this.config.address!, command, params);
    const headers: Record<string, string> = {};
    if (this.authorization) headers.authorization = this.authorization;
    const signal = AbortSignal.timeout(this.config.timeoutMs);
    try {
      const response = await fetch(url, { headers, signal, redirect: 'manual' });
      const body = (await boundedBody(response, MAX_REPLY_BYTES, () => new ControlError('CAMERA_REFUSED', `the camera's reply is larger than ${MAX_REPLY_BYTES} bytes`))).toString('latin1');
      return { status: wvStatus(response.status, response.headers.get('livescope-status') ?? undefined, body), body };
    } catch (error) {
      if (error instanceof ControlError) throw error;
      if (signal.aborted) throw new ControlError('CAMERA_TIMEOUT', `the camera did not answer ${command} within ${this.config.timeoutMs / 1000} s`);
      throw new ControlError('CAMERA_UNREACHABLE', `the camera could not be reached for ${command}`);
    }
  }
}
