import type { StreamStatus } from '../status.ts';
import { html, layout, type Markup } from '../../../lib/html.ts';
import { CONTROL_SCRIPT, controlPanel } from './control-panel.ts';
import { embedIframe, playerBox, playerScripts, webrtcData, type PlayerRequest } from './player-page.ts';

/**
 * /player/NAME.flv: the FLV stream played by mpegts.js (served by the relay) for the lowest latency, with the
 * camera's HLS stream as the fallback where Media Source Extensions are missing, plus embed snippets.
 */
export function renderFlvPlayerPage(stream: StreamStatus, hls: StreamStatus | undefined, request: PlayerRequest): string {
  const video = playerBox(stream, request, { src: stream.url, fallback: hls?.url ?? '', ...webrtcData(stream, request) });
  const scripts = playerScripts(stream, ['/assets/mpegts.js'], '/assets/flv-player.js');
  if (request.embed) return layout(stream.name, video, { scripts, bodyClass: 'embed' });
  const other = html`${hls?.playerUrl ? html` · <a href="${hls.playerUrl}">HLS player</a>` : ''}${stream.webrtcUrl ? html` · <a href="${stream.webrtcUrl}">WebRTC only</a>` : ''}`;
  const body = html`<h1>${stream.name} <small class="muted">camera ${stream.camera}</small></h1>
<p class="nav"><a href="/">cameras</a> · <a href="${stream.url}">stream</a>${other}</p>
${video}
${request.cameraControl ? controlPanel(stream) : ''}
<h2>Embed this stream</h2>${embedSnippets(stream, hls, request.origin)}`;
  return layout(stream.name, body, { scripts: request.cameraControl ? [...scripts, CONTROL_SCRIPT] : scripts, bodyClass: 'player-page' });
}

/** The iframe and the script snippet, with this relay's address filled in. */
function embedSnippets(stream: StreamStatus, hls: StreamStatus | undefined, origin: string): Markup {
  const base = origin.replace(/\/$/, '');
  const iframe = embedIframe(stream, base);
  const fallback = hls ? `else video.src = '${base}${hls.url}'; // no MSE (older iPhones): the camera's HLS stream` : '';
  const script = [
    `<video id="camera" controls muted autoplay playsinline width="640"></video>`,
    `<script src="${base}/assets/mpegts.js"></script>`,
    `<script>`,
    `  var video = document.getElementById('camera');`,
    `  function start() {`,
    `    var player = mpegts.createPlayer({ type: 'flv', isLive: true, hasAudio: false, url: '${base}${stream.url}' },`,
    `      { enableStashBuffer: false, lazyLoad: false, liveBufferLatencyChasing: true, liveBufferLatencyMaxLatency: 1.0 });`,
    `    function restart() { player.destroy(); setTimeout(start, 2000); }`,
    `    player.on(mpegts.Events.ERROR, restart);`,
    `    player.on(mpegts.Events.LOADING_COMPLETE, restart);`,
    `    player.attachMediaElement(video);`,
    `    player.load();`,
    `    video.play();`,
    `  }`,
    `  if (mpegts.isSupported()) start();`,
    ...(fallback ? [`  ${fallback}`] : []),
    `</script>`,
  ].join('\n');
  return html`<div class="embed-snippets">
<h3>iframe</h3><p>The player above, alone, with its recovery: it starts muted and playing (add <code>&amp;autoplay=0</code> to wait for a click).</p>
<pre><code class="snippet" id="snippet-iframe">${iframe}</code></pre>
<h3>video + mpegts.js</h3><p>For pages that want their own video element; mpegts.js is served by this relay, the stream allows any origin.</p>
<pre><code class="snippet" id="snippet-script">${script}</code></pre>
</div>`;
}
