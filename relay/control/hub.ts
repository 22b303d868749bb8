import type { CameraConfig, RelayConfig } from '../../conf/types.ts';
import type { Logger } from '../../lib/log.ts';
import type { ControlBackend } from './backend.ts';
import { CanonHttpBackend } from './canon-http.ts';
import { OnvifBackend } from './onvif.ts';
import { CameraController } from './controller.ts';

/** The backend a camera's Control directive names, or undefined for none. */
export function createBackend(camera: CameraConfig, log: Logger): ControlBackend | undefined {
  if (camera.control.kind === 'canon-http') return new CanonHttpBackend(camera.control, camera, log);
  if (camera.control.kind === 'onvif') return new OnvifBackend(camera.control, camera, log);
  return undefined;
}

/** What a controller was built from: a reload that changes any of it starts the camera's control afresh. */
function fingerprint(camera: CameraConfig): string {
  return JSON.stringify([camera.control, camera.username, camera.password]);
}

/**
 * The controllers of a relay's cameras, made on first use and rebuilt when a reload changes a camera's control.
 * The running relay owns one (`Relay.control`) and closes it when it stops.
 */
export class ControlHub {
  private readonly controllers = new Map<string, { controller: CameraController; fingerprint: string }>();
  private closed = false;

  /** `config` is the relay's config of the moment (a reload replaces it); `log` the relay's logger. */
  constructor(
    private readonly config: () => RelayConfig,
    private readonly log: Logger,
  ) {}

  /** The controller of `name`, or undefined when there is no such camera, it has no control backend, or the hub is closed. */
  get(name: string): CameraController | undefined {
    if (this.closed) return undefined;
    const camera = this.config().cameras.find((candidate) => candidate.name === name);
    const existing = this.controllers.get(name);
    const print = camera ? fingerprint(camera) : '';
    if (existing && existing.fingerprint === print) return existing.controller;
    if (existing) {
      this.controllers.delete(name);
      void existing.controller.close();
    }
    if (!camera) return undefined;
    const log = this.log.child(`control ${name}`);
    const backend = createBackend(camera, log);
    if (!backend) return undefined;
    const controller = new CameraController(name, camera.control, backend, log);
    this.controllers.set(name, { controller, fingerprint: print });
    return controller;
  }

  /**
   * After a reload: closes at once the controllers whose camera is gone or whose control changed (their queue is told
   * "ended"), so that nobody goes on holding a control built from the old settings; the next request builds the new one.
   */
  async reconcile(): Promise<void> {
    const stale: CameraController[] = [];
    for (const [name, { controller, fingerprint: print }] of this.controllers) {
      const camera = this.config().cameras.find((candidate) => candidate.name === name);
      if (camera && fingerprint(camera) === print) continue;
      this.controllers.delete(name);
      stale.push(controller);
    }
    await Promise.all(stale.map((controller) => controller.close()));
  }

  /** Closes every controller (their queues are told "ended"); later requests find none. Safe twice. */
  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.controllers.values()];
    this.controllers.clear();
    await Promise.all(all.map(({ controller }) => controller.close()));
  }
}
