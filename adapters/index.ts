import { AdapterRegistry, type AdapterRegistration } from './registry.ts';
import { rtspAdapter } from './rtsp/client.ts';
import { testsrcAdapter } from './testsrc/testsrc.ts';
import { httpAdapter } from './http/adapter.ts';
import { vbcAdapter } from './vbc/client.ts';
import { pushAdapter } from './push/adapter.ts';
import { vodLiveAdapter } from './vod-live/adapter.ts';
import { onvifAdapter } from './onvif/adapter.ts';

/** Every camera protocol the relay speaks, by URL scheme. Add a line here to add a protocol. */
export const adapterRegistrations: readonly AdapterRegistration[] = [
  testsrcAdapter,
  rtspAdapter,
  httpAdapter,
  vbcAdapter,
  pushAdapter,
  vodLiveAdapter,
  onvifAdapter,
];

/** The URL schemes a Source may use; the config parser checks against this list. */
export const knownSchemes: readonly string[] = adapterRegistrations.flatMap((registration) => registration.schemes);

export function createAdapterRegistry(): AdapterRegistry {
  return new AdapterRegistry(adapterRegistrations);
}
