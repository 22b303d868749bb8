import type { StreamStatus } from '../status.ts';
import { withViewerToken } from '../../auth/viewer-link.ts';
import { html, layout, type Markup } from '../../../lib/html.ts';
import { CONTROL_SCRIPT, controlPanel } from './control-panel.ts';
import type { IceServer } from '../../../conf/webrtc-values.ts';

/** What the player page needs to know about the request it answers. */
export interface PlayerRequest {
  /** scheme://host:port the browser used, for absolute URLs in the embed snippets. */
  readonly origin: string;
  /** On unless the page was opened with ?autoplay=0. */
  readonly autoplay: boolean;
  /** On while autoplaying (browsers refuse autoplay with sound) unless ?muted=0. */
  readonly muted: boolean;
  /** Only the video, for <iframe> embedding. */
  readonly embed: boolean;
  /** The camera has a control backend: the page carries the control panel and its script. */
  readonly cameraControl?: boolean;
  /** STUN and TURN servers for WebRTC players (WebRTCICEServers). */
  readonly iceServers?: readonly IceServer[];
}

/**
 * What makes a player page play over WebRTC (webrtc.js): the stream's WHEP URL, with the page's viewer token, and the
 * ICE servers; none for a stream without WebRTC. On the HLS and FLV pages WebRTC is tried first, their own player after.
 */
export function webrtcData(stream: StreamStatus, request: PlayerRequest): Record<string, string> {
  if (!stream.webrtcUrl) return {};
  const token = new URL(stream.url, 'http://relay').searchParams.get('token') ?? undefined;
  return { whep: withViewerToken(`/${stream.name}/whep`, token), 'ice-servers': JSON.stringify(request.iceServers ?? []) };
}

/** The scripts of a player page whose own player is `engine`: WebRTC's first when the stream offers it. */
export function playerScripts(stream: StreamStatus, libraries: readonly string[], engine: string): string[] {
  return [...libraries, '/assets/player-shell.js', ...(stream.webrtcUrl ? ['/assets/webrtc.js'] : []), engine];
}

/** True for a stream packaged as LL-HLS (its status carries `lowLatency: true`). */
export function isLowLatency(stream: StreamStatus): boolean {
  return stream.lowLatency === true;
}

/** Width of the embed snippets' iframe and video, px. */
const EMBED_WIDTH = 640;

/**
 * The embed snippets' size: EMBED_WIDTH wide, as tall as the stream's configured picture (VideoSize) makes it; 4:3
 * (the usual camera picture, and the player's own box) where the stream keeps the camera's size. Height is even.
 */
export function embedSize(stream: StreamStatus): { width: number; height: number } {
  const match = /^(\d+)x(\d+)$/.exec(stream.configured?.size ?? '');
  const [width, height] = match ? [Number(match[1]), Number(match[2])] : [4, 3];
  if (!(width > 0 && height > 0)) return { width: EMBED_WIDTH, height: (EMBED_WIDTH * 3) / 4 };
  return { width: EMBED_WIDTH, height: Math.round((EMBED_WIDTH * height) / width / 2) * 2 };
}

/** The embed snippet's iframe: this stream's player page alone, at the embed size, from `base` (no trailing slash). */
export function embedIframe(stream: StreamStatus, base: string): string {
  const size = embedSize(stream);
  return `<iframe src="${base}${stream.playerUrl ?? ''}${stream.playerUrl?.includes('?') ? '&' : '?'}embed" width="${size.width}" height="${size.height}" allow="autoplay; fullscreen" style="border:0"></iframe>`;
}

/**
 * The player box both player pages share: the video, the state line over it, the unmute control (hidden until the
 * media reports a sound track: player-shell.js). `data-state-url`
 * is where player-shell.js asks for the stream's state while the video is not playing.
 */
export function playerBox(stream: StreamStatus, request: PlayerRequest, videoData: Record<string, string>): Markup {
  const data = Object.entries(videoData).map(([key, value]) => html` data-${key}="${value}"`);
  // The state of a token stream is asked for with the token the page's stream URL carries.
  const token = new URL(stream.url, 'http://relay').searchParams.get('token');
  const stateUrl = withViewerToken(`/player/${stream.name}/state`, token ?? undefined);
  return html`<div class="player" id="player" data-state="connecting" data-state-url="${stateUrl}">
<video id="video"${data} controls playsinline${request.autoplay ? ' autoplay' : ''}${request.muted ? ' muted' : ''}></video>
<div class="player-state" id="player-state" aria-live="polite">connecting…</div>
<button type="button" class="player-unmute" id="player-unmute" hidden>unmute</button>
<noscript><p>The player needs JavaScript; the stream itself is at <a href="${stream.url}">${stream.url}</a>.</p></noscript>
</div>`;
}

/**
 * /player/NAME: the HLS stream in a <video>, played natively where the browser can, else with hls.js (player.js
 * holds the recovery logic), plus copy-paste embed snippets.
 */
export function renderPlayerPage(stream: StreamStatus, mjpeg: StreamStatus | undefined, request: PlayerRequest): string {
  const video = playerBox(stream, request, { src: stream.url, 'low-latency': isLowLatency(stream) ? '1' : '0', ...webrtcData(stream, request) });
  const scripts = playerScripts(stream, ['/assets/hls.min.js'], '/assets/player.js');
  if (request.embed) return layout(stream.name, video, { scripts, bodyClass: 'embed' });
  const body = html`<h1>${stream.name} <small class="muted">camera ${stream.camera}</small></h1>
<p class="nav"><a href="/">cameras</a> · <a href="${stream.url}">playlist</a>${stream.webrtcUrl ? html` · <a href="${stream.webrtcUrl}">WebRTC only</a>` : ''}</p>
${video}
${request.cameraControl ? controlPanel(stream) : ''}
<h2>Embed this stream</h2>${embedSnippets(stream, mjpeg, request.origin)}`;
  return layout(stream.name, body, { scripts: request.cameraControl ? [...scripts, CONTROL_SCRIPT] : scripts, bodyClass: 'player-page' });
}

/** The three ways to put this camera on another page. */
function embedSnippets(stream: StreamStatus, mjpeg: StreamStatus | undefined, origin: string): Markup {
  const base = origin.replace(/\/$/, '');
  const iframe = embedIframe(stream, base);
  const video = [
    `<video id="camera" controls muted autoplay playsinline width="640"></video>`,
    `<script src="${base}/assets/hls.min.js"></script>`,
    `<script>`,
    `  var video = document.getElementById('camera'), src = '${base}${stream.url}';`,
    `  if (video.canPlayType('application/vnd.apple.mpegurl')) video.src = src;`,
    `  else if (window.Hls && Hls.isSupported()) {`,
    `    var hls = new Hls({ liveSyncDurationCount: 2 });`,
    `    hls.on(Hls.Events.ERROR, function (event, data) {`,
    `      if (!data.fatal) return;`,
    `      if (data.type === Hls.ErrorTypes.NETWORK_ERROR) setTimeout(function () { hls.startLoad(); }, 2000);`,
    `      else if (data.type === Hls.ErrorTypes.MEDIA_ERROR) hls.recoverMediaError();`,
    `      else location.reload();`,
    `    });`,
    `    hls.loadSource(src);`,
    `    hls.attachMedia(video);`,
    `  }`,
    `</script>`,
  ].join('\n');
  const img = mjpeg ? `<img src="${base}${mjpeg.url}" alt="${mjpeg.camera}" width="320" height="240">` : undefined;
  return html`<div class="embed-snippets">
<h3>iframe</h3><p>The player above, alone: it starts muted and playing (add <code>&amp;autoplay=0</code> to wait for a click).</p>
<pre><code class="snippet" id="snippet-iframe">${iframe}</code></pre>
<h3>video + hls.js</h3><p>For pages that want their own video element; hls.js is served by this relay.</p>
<pre><code class="snippet" id="snippet-video">${video}</code></pre>
${img ? html`<h3>MJPEG image</h3><p>No script at all: the camera's JPEGs as a moving image (one connection per viewer).</p>
<pre><code class="snippet" id="snippet-mjpeg">${img}</code></pre>` : ''}
</div>`;
}
