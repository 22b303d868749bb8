import { withViewerToken } from '../auth/viewer-link.ts';
import { html, layout } from '../../lib/html.ts';

/** Extensions a browser may play as a plain file, with the type to ask canPlayType about. */
const DIRECT_TYPES: Record<string, string> = { mp4: 'video/mp4', m4v: 'video/mp4', mov: 'video/mp4', webm: 'video/webm' };

/**
 * /player/vod/FILE: the file in a <video>. player/vod.js plays it directly where the browser can, else its HLS
 * package (/vod/FILE.m3u8) natively or with hls.js, and says so in the state line.
 */
export function renderVodPlayerPage(name: string, token?: unknown): string {
  const encoded = name.split('/').map(encodeURIComponent).join('/');
  // The page's own token (scope vod/FILE) opens the file and its HLS package too.
  const file = withViewerToken(`/vod/${encoded}`, token);
  const hls = withViewerToken(`/vod/${encoded}.m3u8`, token);
  const extension = name.includes('.') ? name.split('.').pop()!.toLowerCase() : '';
  const directType = DIRECT_TYPES[extension] ?? '';
  const body = html`<h1>${name} <small class="muted">video on demand</small></h1>
<p class="nav"><a href="/">cameras</a> · <a href="${file}">file</a> · <a href="${hls}">HLS playlist</a></p>
<div class="player" id="player" data-state="connecting">
<video id="video" controls playsinline preload="metadata" data-file="${file}" data-hls="${hls}" data-type="${directType}"></video>
<div class="player-state" id="player-state" aria-live="polite">loading…</div>
<noscript><p>The player needs JavaScript; the file itself is at <a href="${file}">/vod/${encoded}</a>.</p></noscript>
</div>`;
  return layout(name, body, { scripts: ['/assets/hls.min.js', '/assets/vod.js'], bodyClass: 'player-page' });
}
