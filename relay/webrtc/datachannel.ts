import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** libdatachannel is loaded with the first WebRTC viewer, not at start: it adds about 8 MiB to every relay, most of which serve none. */
export function datachannel(): typeof import('node-datachannel') {
  return require('node-datachannel') as typeof import('node-datachannel');
}
