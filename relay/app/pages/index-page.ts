import type { CameraStatus, StatusSnapshot, StreamStatus } from '../status.ts';
import { html, layout, type Markup } from '../../../lib/html.ts';

/** How often index.js reloads each camera's snapshot thumbnail, ms. */
export const THUMBNAIL_REFRESH_MS = 3000;

/** `/`: every camera with its state, a live thumbnail and links to its streams (and HLS player pages). */
export function renderIndexPage(snapshot: StatusSnapshot, statusUrl: string | undefined): string {
  const status = html` · <a href="/wall">wall</a>${statusUrl ? html` · <a href="${statusUrl}">status</a>` : ''}`;
  const recorded = new Set(snapshot.recording?.cameras.filter((camera) => camera.state !== 'not recorded').map((camera) => camera.name));
  const cards = snapshot.cameras.map((camera) => cameraCard(camera, snapshot.streams.filter((stream) => stream.camera === camera.name), recorded.has(camera.name)));
  const body = html`<h1>Cameras</h1><p class="nav">${snapshot.cameras.length} camera(s)${status}</p>
<div class="cameras" data-thumbnail-refresh-ms="${THUMBNAIL_REFRESH_MS}">${cards}</div>`;
  return layout('Cameras', body, { scripts: ['/assets/index.js'], bodyClass: 'index' });
}

function cameraCard(camera: CameraStatus, streams: StreamStatus[], recorded: boolean): Markup {
  const recordings = recorded ? html`<li><a href="/recordings/${camera.name}">recordings</a></li>` : '';
  return html`<section class="camera" data-camera="${camera.name}">
<h2>${camera.name} <small class="state state-${camera.state}">${camera.stateText}</small></h2>
${thumbnail(camera, streams)}
<ul class="streams">${streams.map(streamItem)}${recordings}</ul>
</section>`;
}

/**
 * A snapshot stream is reloaded by index.js every few seconds (one short request each); failing that, an MJPEG
 * stream moves by itself, at the cost of a connection held open while the page is shown. A camera that is not live
 * shows its state in place of the picture (index.js follows it from /stat.json), never a broken image.
 */
function thumbnail(camera: CameraStatus, streams: StreamStatus[]): Markup {
  const jpeg = streams.find((stream) => stream.format === 'jpeg');
  const mjpeg = streams.find((stream) => stream.format === 'mpjpeg');
  const image = jpeg ?? mjpeg;
  if (!image) return html`<div class="thumbnail none">no image stream</div>`;
  const refresh = jpeg ? html` data-refresh="${jpeg.url}"` : html` data-stream="${image.url}"`;
  return pictureOrState(camera, html`<img class="thumbnail"${srcWhileLive(camera, image.url)}${refresh} alt="${camera.name}" width="320" height="240">`, 'thumbnail');
}

/**
 * True while a camera's picture can be asked for: live, or idle on demand (the request starts it). Retrying, stopped
 * or waiting for a publisher, a snapshot is an error, not an image. index.js applies the same rule (PICTURE_STATES).
 */
export function showsPicture(camera: CameraStatus): boolean {
  return camera.state === 'live' || camera.state === 'idle';
}

/** The src of a camera's picture while it can be shown; none otherwise (index.js sets it once the camera is back). */
export function srcWhileLive(camera: CameraStatus, url: string): Markup | string {
  return showsPicture(camera) ? html` src="${url}"` : '';
}

/**
 * A camera's picture, or in its place a note of the camera's state while it is not live (data-live, relay.css).
 * The picture is asked for only while the camera is live: a down camera's snapshot is an error, not an image.
 */
export function pictureOrState(camera: CameraStatus, picture: Markup, noteClass: string): Markup {
  return html`<div class="picture" data-live="${showsPicture(camera) ? '1' : '0'}">${picture}<div class="${noteClass} picture-state">${camera.stateText}</div></div>`;
}

function streamItem(stream: StreamStatus): Markup {
  const player = stream.playerUrl ? html` · <a href="${stream.playerUrl}">player</a>` : '';
  const live = stream.liveUrl ? html` · <a href="${stream.liveUrl}">live player</a>` : '';
  const webrtc = stream.webrtcUrl ? html` · <a href="${stream.webrtcUrl}">WebRTC player</a>` : '';
  return html`<li><a href="${stream.url}">${stream.name}</a> <span class="muted">${stream.format}</span>${player}${live}${webrtc}</li>`;
}
