import type { CameraConfig } from '../conf/types.ts';
import type { PushGateway } from './push/gateway.ts';
import type { CameraAdapter } from './types.ts';
import type { ProcessSlots } from '../lib/process-slots.ts';
import type { ObjectStore } from '../lib/object-store.ts';

/** What an adapter factory may use from the running relay. */
export interface AdapterEnv {
  readonly ffmpegPath: string;
  /** Adapters that run a child process take a slot first (MaxProcesses). */
  readonly processSlots: ProcessSlots;
  /** Where push:// cameras meet their publishers; absent outside a relay. */
  readonly push?: PushGateway;
  /** The config's MediaPath, for sources that play files. */
  readonly mediaPath?: string;
  /** The configured buckets (<Storage> blocks) by name, for sources that play objects (vod-live://s3/STORAGE/KEY). */
  readonly objectStores?: ReadonlyMap<string, ObjectStore>;
}

export type AdapterFactory = (camera: CameraConfig, env: AdapterEnv) => CameraAdapter;

/** A camera protocol, registered under the URL schemes it serves. */
export interface AdapterRegistration {
  readonly schemes: readonly string[];
  readonly create: AdapterFactory;
}

/** Maps URL schemes to adapter factories; built once from an explicit list (adapters/index.ts). */
export class AdapterRegistry {
  private readonly bySchemes = new Map<string, AdapterFactory>();

  constructor(registrations: readonly AdapterRegistration[]) {
    for (const registration of registrations) {
      for (const scheme of registration.schemes) {
        if (this.bySchemes.has(scheme)) throw new Error(`two adapters claim the URL scheme ${scheme}://`);
        this.bySchemes.set(scheme, registration.create);
      }
    }
  }

  get schemes(): string[] {
    return [...this.bySchemes.keys()];
  }

  has(scheme: string): boolean {
    return this.bySchemes.has(scheme);
  }

  create(camera: CameraConfig, env: AdapterEnv): CameraAdapter {
    const factory = this.bySchemes.get(camera.scheme);
    if (!factory) throw new Error(`no adapter for ${camera.scheme}:// (known: ${this.schemes.join(', ')})`);
    return factory(camera, env);
  }
}
