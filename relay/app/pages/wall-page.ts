import type { CameraStatus, StatusSnapshot, StreamStatus } from '../status.ts';
import { html, layout, type Markup } from '../../../lib/html.ts';
import { pictureOrState, srcWhileLive } from './index-page.ts';

/**
 * How often each wall tile asks for its camera's next snapshot, ms. A tile has at most one short request in flight
 * (index.js waits for the previous image), so a wall of any size shares the browser's six connections per host.
 */
export const WALL_REFRESH_MS = 400;
/** Cameras shown when the query names none: a 2x2 wall. */
export const WALL_DEFAULT_TILES = 4;
/** The most tiles one wall shows, however many names the query lists. */
export const WALL_MAX_TILES = 16;

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** The camera names a wall shows: `?cameras=a,b,c` (valid names, no repeats, at most WALL_MAX_TILES), else the first four. */
export function wallCameraNames(query: unknown, snapshot: StatusSnapshot): string[] {
  const text = typeof query === 'string' ? query : Array.isArray(query) ? query.join(',') : '';
  const asked = [...new Set(text.slice(0, 4096).split(',').map((name) => name.trim()).filter((name) => NAME.test(name)))];
  if (asked.length > 0) return asked.slice(0, WALL_MAX_TILES);
  return snapshot.cameras.slice(0, WALL_DEFAULT_TILES).map((camera) => camera.name);
}

/** `/wall`: the cameras live in a grid, each from its JPEG snapshot stream refreshed in place. */
export function renderWallPage(snapshot: StatusSnapshot, names: string[]): string {
  const columns = Math.max(1, Math.ceil(Math.sqrt(names.length)));
  const tiles = names.map((name) => {
    const camera = snapshot.cameras.find((candidate) => candidate.name === name);
    return camera ? cameraTile(camera, snapshot.streams.filter((stream) => stream.camera === name)) : missingTile(name);
  });
  // A class per column count (relay.css): the Content-Security-Policy refuses inline style attributes.
  const body = html`<div class="wall wall-columns-${columns}" data-thumbnail-refresh-ms="${WALL_REFRESH_MS}">${tiles}</div>`;
  return layout('Camera wall', body, { scripts: ['/assets/index.js'], bodyClass: 'wall-page' });
}

function cameraTile(camera: CameraStatus, streams: StreamStatus[]): Markup {
  return html`<figure class="tile" data-camera="${camera.name}">${tileMedia(camera, streams)}
<figcaption>${camera.name} <small class="state state-${camera.state}">${camera.stateText}</small></figcaption></figure>`;
}

/** A snapshot stream if the camera has one; else its first video stream's player in an iframe; else a note. */
function tileMedia(camera: CameraStatus, streams: StreamStatus[]): Markup {
  const jpeg = streams.find((stream) => stream.format === 'jpeg');
  if (jpeg) return pictureOrState(camera, html`<img class="tile-image"${srcWhileLive(camera, jpeg.url)} data-refresh="${jpeg.url}" alt="${camera.name}">`, 'tile-none');
  const video = streams.find((stream) => stream.playerUrl !== null && (stream.format === 'flv' || stream.format === 'hls'));
  if (video?.playerUrl) {
    return html`<iframe class="tile-player" src="${video.playerUrl}?embed" title="${camera.name}" allow="autoplay; fullscreen"></iframe>`;
  }
  return html`<div class="tile-none">no image stream</div>`;
}

function missingTile(name: string): Markup {
  return html`<figure class="tile" data-camera="${name}"><div class="tile-none">unknown camera</div>
<figcaption>${name}</figcaption></figure>`;
}
