import type { StreamStatus } from '../status.ts';
import { html, layout } from '../../../lib/html.ts';
import { playerBox, webrtcData, type PlayerRequest } from './player-page.ts';

/**
 * /player/NAME.webrtc: the stream over WebRTC (WHEP at /NAME/whep), played by the relay's own webrtc.js with the same
 * states and recovery as the other players, plus the embed iframe.
 */
export function renderWebRtcPlayerPage(stream: StreamStatus, request: PlayerRequest): string {
  const video = playerBox(stream, request, webrtcData(stream, request));
  const scripts = ['/assets/player-shell.js', '/assets/webrtc.js'];
  if (request.embed) return layout(stream.name, video, { scripts, bodyClass: 'embed' });
  const iframe = `<iframe src="${request.origin}/player/${stream.name}.webrtc?embed=1" width="640" height="480" allow="autoplay; fullscreen" style="border:0"></iframe>`;
  const body = html`<h1>${stream.name} <small class="muted">camera ${stream.camera} · WebRTC</small></h1>
<p class="nav"><a href="/">cameras</a> · <a href="/player/${stream.name}">FLV player</a></p>
${video}
<h2>Embed this stream</h2><pre><code class="snippet" id="snippet-iframe">${iframe}</code></pre>`;
  return layout(stream.name, body, { scripts, bodyClass: 'player-page' });
}
