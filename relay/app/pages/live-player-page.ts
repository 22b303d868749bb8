import type { StreamStatus } from '../status.ts';
import { html, layout } from '../../../lib/html.ts';
import { embedSize, playerBox, type PlayerRequest } from './player-page.ts';

/**
 * /player/NAME.live: the stream over its WebSocket (/NAME.ws), decoded with WebCodecs and drawn to a canvas as each
 * frame is decoded, or played through Media Source Extensions where WebCodecs is missing; with embed snippets.
 */
export function renderLivePlayerPage(stream: StreamStatus, request: PlayerRequest): string {
  const wsUrl = stream.url.replace(/^\/([^?]+)/, '/$1.ws');
  const liveUrl = stream.url.replace(/^\/([^?]+)/, '/player/$1.live');
  const video = playerBox(stream, request, { src: wsUrl });
  const scripts = ['/assets/player-shell.js', '/assets/live.js'];
  if (request.embed) return layout(stream.name, video, { scripts, bodyClass: 'embed' });
  const base = request.origin.replace(/\/$/, '');
  const size = embedSize(stream);
  const iframe = `<iframe src="${base}${liveUrl}${liveUrl.includes('?') ? '&' : '?'}embed" width="${size.width}" height="${size.height}" allow="autoplay; fullscreen" style="border:0"></iframe>`;
  const other = stream.playerUrl ? html` · <a href="${stream.playerUrl}">${stream.format.toUpperCase()} player</a>` : '';
  const body = html`<h1>${stream.name} <small class="muted">camera ${stream.camera}, WebSocket</small></h1>
<p class="nav"><a href="/">cameras</a> · <a href="${stream.url}">stream</a>${other}</p>
${video}
<h2>Embed this stream</h2><div class="embed-snippets">
<h3>iframe</h3><p>The player above, alone, with its recovery: it starts playing at once (WebCodecs, or Media Source Extensions where WebCodecs is missing).</p>
<pre><code class="snippet" id="snippet-iframe">${iframe}</code></pre>
<p>The WebSocket itself is at <code>${base.replace(/^http/, 'ws')}${wsUrl}</code> (its protocol is in the README).</p>
</div>`;
  return layout(stream.name, body, { scripts, bodyClass: 'player-page' });
}
