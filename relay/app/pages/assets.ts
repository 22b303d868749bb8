import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const playerDir = fileURLToPath(new URL('../../../player/', import.meta.url));

/** One static file the relay serves under /assets/. */
interface Asset {
  readonly file: string;
  readonly type: string;
}

/** The fixed list of assets: nothing else on disk is reachable, whatever the request path. */
const ASSETS: Record<string, Asset> = {
  'hls.min.js': { file: packageFile('hls.js/dist/hls.min.js'), type: 'application/javascript; charset=utf-8' },
  'mpegts.js': { file: packageFile('mpegts.js/dist/mpegts.js'), type: 'application/javascript; charset=utf-8' },
  'player-shell.js': { file: `${playerDir}player-shell.js`, type: 'application/javascript; charset=utf-8' },
  'live.js': { file: `${playerDir}live.js`, type: 'application/javascript; charset=utf-8' },
  'flv-player.js': { file: `${playerDir}flv-player.js`, type: 'application/javascript; charset=utf-8' },
  'webrtc.js': { file: `${playerDir}webrtc.js`, type: 'application/javascript; charset=utf-8' },
  'player.js': { file: `${playerDir}player.js`, type: 'application/javascript; charset=utf-8' },
  'vod.js': { file: `${playerDir}vod.js`, type: 'application/javascript; charset=utf-8' },
  'status.js': { file: `${playerDir}status.js`, type: 'application/javascript; charset=utf-8' },
  'index.js': { file: `${playerDir}index.js`, type: 'application/javascript; charset=utf-8' },
  'recordings.js': { file: `${playerDir}recordings.js`, type: 'application/javascript; charset=utf-8' },
  'admin.js': { file: `${playerDir}admin.js`, type: 'application/javascript; charset=utf-8' },
  'control.js': { file: `${playerDir}control.js`, type: 'application/javascript; charset=utf-8' },
  'relay.css': { file: `${playerDir}relay.css`, type: 'text/css; charset=utf-8' },
};

/** A player library from node_modules (never a CDN: hls.js, mpegts.js), resolved the way Node resolves packages. */
function packageFile(path: string): string {
  return createRequire(import.meta.url).resolve(path);
}

const cache = new Map<string, Buffer>();

/** The asset's bytes and content type, read once and kept; undefined for names not in the list. */
export async function loadAsset(name: string): Promise<{ body: Buffer; type: string } | undefined> {
  const asset = Object.hasOwn(ASSETS, name) ? ASSETS[name] : undefined;
  if (!asset) return undefined;
  let body = cache.get(name);
  if (!body) {
    body = await readFile(asset.file);
    cache.set(name, body);
  }
  return { body, type: asset.type };
}
