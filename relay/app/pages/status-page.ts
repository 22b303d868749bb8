import type { CameraStatus, FfmpegStatus, StatusSnapshot, StreamStatus, ViewerStatus } from '../status.ts';
import { html, join, layout, live, type Markup } from '../../../lib/html.ts';
import { renderRecordingBlock } from '../../recording/status.ts';
import { renderAlertsBlock } from '../../events/status-block.ts';

/** How often the page refreshes itself from /stat.json, ms (also the no-JavaScript refresh, in seconds, rounded up). */
export const STATUS_REFRESH_MS = 3000;

/**
 * /stat.html: server, cameras, streams and their viewers as plain tables. Rows carry keys and cells carry field
 * paths (data-f), so player/status.js can refresh values in place from /stat.json without reloading the page.
 */
export function renderStatusPage(snapshot: StatusSnapshot, charts?: Markup): string {
  const body = html`<h1>Relay status</h1>
<p class="nav"><a href="/">cameras</a> · <a href="/stat.json">stat.json</a> · <a href="/metrics">metrics</a> · <a href="/admin">admin</a>
 · <span id="refresh-state">refreshes every ${STATUS_REFRESH_MS / 1000} s</span></p>
<div id="status" data-refresh-ms="${STATUS_REFRESH_MS}">${renderStatusBody(snapshot)}</div>${charts ?? ''}`;
  return layout('Relay status', body, { scripts: ['/assets/status.js'], bodyClass: 'status' });
}

/** The part of the page that is replaced whole when cameras, streams or viewers come or go. */
export function renderStatusBody(snapshot: StatusSnapshot): Markup {
  return html`${serverBlock(snapshot)}
<h2>Cameras</h2>
<table class="cameras"><thead><tr><th>Camera</th><th>Kind</th><th>Host</th><th>State</th><th>Live since</th><th>Reconnects</th>
<th>Input fps</th><th>Input rate</th><th>Bytes in</th><th>Last frame</th><th>Viewers</th><th>Last error</th></tr></thead>
<tbody>${snapshot.cameras.map(cameraRow)}</tbody></table>
<h2>Streams</h2>
<table class="streams"><thead><tr><th>Stream</th><th>Camera</th><th>Format</th><th>Size</th><th>fps set / measured</th>
<th>kbit/s set / encoded / out</th><th>Viewers</th><th>Bytes out</th><th>Drops</th><th>Refused</th><th>ffmpeg</th></tr></thead>
<tbody>${snapshot.streams.map(streamRows)}</tbody></table>
${renderRecordingBlock(snapshot.recording)}
${renderAlertsBlock(snapshot.events)}`;
}

function serverBlock({ server }: StatusSnapshot): Markup {
  const notices = server.notices.length > 0 ? html`<ul class="notices">${server.notices.map((notice) => html`<li>${notice}</li>`)}</ul>
` : '';
  return html`${notices}<table class="server" data-key="server"><tbody>
<tr><th>Version</th><td>relay ${server.version}</td><th>Started</th><td>${live('startedAt', server.startedAt, 'time')}
 (up ${live('uptimeSeconds', server.uptimeSeconds, 'count')} s)</td></tr>
<tr><th>ffmpeg</th><td>${server.ffmpeg.version} <small>${server.ffmpeg.path} (${server.ffmpeg.origin})</small></td>
<th>Viewers</th><td>${live('viewers', server.viewers, 'count')} / ${server.maxClients > 0 ? server.maxClients : 'no limit'}</td></tr>
<tr><th>Bandwidth</th><td>${live('measuredOutKbps', server.measuredOutKbps, 'kbps')} measured, ${live('bandwidthKbps', server.bandwidthKbps, 'count')}
 kbit/s estimated / ${server.maxBandwidthKbps > 0 ? `${server.maxBandwidthKbps} kbit/s` : 'no limit'}</td>
<th>Refused</th><td>${live('refused', server.refused, 'count')}</td></tr>
</tbody></table>`;
}

function cameraRow(camera: CameraStatus): Markup {
  return html`<tr data-key="camera/${camera.name}">
<td>${camera.name}</td><td>${camera.kind}</td><td>${camera.host}</td>
<td>${live('stateText', camera.stateText, 'text', 'span')}
 <small>${live('push.summary', camera.push?.summary ?? null, 'note')}</small>
 <small>${live('audio.summary', camera.audio?.summary ?? null, 'note')}</small></td>
<td>${live('liveSince', camera.liveSince, 'time')}</td>
<td>${live('reconnects', camera.reconnects, 'count')}</td>
<td>${live('inputFps', camera.inputFps, 'rate')}</td>
<td>${live('inputKbps', camera.inputKbps, 'kbps')}</td>
<td>${live('bytesIn', camera.bytesIn, 'bytes')}</td>
<td>${live('lastFrameAgeSeconds', camera.lastFrameAgeSeconds, 'seconds')} ago</td>
<td>${live('viewers', camera.viewers, 'count')}</td>
<td class="error">${live('lastError.message', camera.lastError?.message ?? null, 'note')}
 <small>${live('lastError.at', camera.lastError?.at ?? null, 'note')}</small>
 <small>${live('notice', camera.notice, 'note')}</small></td>
</tr>`;
}

function streamRows(stream: StreamStatus): Markup {
  const { configured } = stream;
  const player = stream.playerUrl ? html` <a href="${stream.playerUrl}" class="player-link">player</a>` : '';
  return html`<tr data-key="stream/${stream.name}">
<td><a href="${stream.url}">${stream.name}</a>${player}</td><td>${stream.camera}</td><td>${stream.format}</td>
<td>${configured.size ?? 'camera\'s'}</td>
<td>${configured.frameRate > 0 ? configured.frameRate : 'camera\'s'} / ${live('measured.frameRate', stream.measured.frameRate, 'rate')}</td>
<td>${stream.ffmpeg ? configured.bitRateKbps : '–'} / ${live('measured.encodedKbps', stream.measured.encodedKbps, 'kbps')}
 / ${live('measured.outKbps', stream.measured.outKbps, 'kbps')}</td>
<td>${live('viewers', stream.viewers, 'count')}${stream.maxClients > 0 ? ` / ${stream.maxClients}` : ''}${rtspReaders(stream)}</td>
<td>${live('bytesOut', stream.bytesOut, 'bytes')}</td>
<td>${live('drops', stream.drops, 'count')}</td>
<td>${live('refused', stream.refused, 'count')}</td>
<td>${stream.ffmpeg ? ffmpegCell(stream.ffmpeg) : 'passthrough'}</td>
</tr>
<tr class="detail" data-key="stream/${stream.name}"><td colspan="11">${viewerDetails(stream)}${stderrBlock(stream)}</td></tr>`;
}

/** RTSP readers of a stream served over RTSP, beside its HTTP viewers. */
function rtspReaders(stream: StreamStatus): Markup | string {
  const rtsp = stream.protocols.rtsp;
  return rtsp ? html` <small>+ ${live('protocols.rtsp.viewers', rtsp.viewers, 'count')} RTSP</small>` : '';
}

function ffmpegCell(ffmpeg: FfmpegStatus): Markup {
  return html`${live('ffmpeg.state', ffmpeg.state)} pid ${live('ffmpeg.pid', ffmpeg.pid, 'count')}, CPU ${live('ffmpeg.cpuPercent', ffmpeg.cpuPercent, 'percent')},
 restarts ${live('ffmpeg.restarts', ffmpeg.restarts, 'count')}`;
}

function viewerDetails(stream: StreamStatus): Markup | string {
  if (stream.viewerList.length === 0) return html`<span class="muted">no connected viewers listed</span>`;
  const more = stream.viewerListTruncated ? html`<p class="muted">first ${stream.viewerList.length} of ${stream.viewers} shown</p>` : '';
  return html`<details id="viewers-${stream.name}"><summary>${stream.viewerList.length} viewer(s)</summary>
<table class="viewers"><thead><tr><th>Address</th><th>Protocol</th><th>Since</th><th>Bytes sent</th><th>Rate</th><th>Drops</th></tr></thead>
<tbody>${stream.viewerList.map((viewer) => viewerRow(stream, viewer))}</tbody></table>${more}</details>`;
}

function viewerRow(stream: StreamStatus, viewer: ViewerStatus): Markup {
  return html`<tr data-key="viewer/${stream.name}/${viewer.id}"><td>${viewer.address}</td><td>${viewer.protocol}${webrtcFigures(viewer)}</td><td>${live('since', viewer.since, 'time')}</td>
<td>${live('bytesSent', viewer.bytesSent, 'bytes')}</td><td>${live('kbps', viewer.kbps, 'kbps')}</td><td>${live('drops', viewer.drops, 'count')}</td></tr>`;
}

/** A WebRTC viewer's selected ICE pair, RTT and feedback, beside its protocol. */
function webrtcFigures(viewer: ViewerStatus): Markup | string {
  if (!viewer.webrtc) return '';
  return html`<br><small>viewer ${live('webrtc.remoteCandidateType', viewer.webrtc.remoteCandidateType)}/${live('webrtc.transport', viewer.webrtc.transport)},
 RTT ${live('webrtc.rttMs', viewer.webrtc.rttMs, 'count')} ms, ${live('webrtc.nacks', viewer.webrtc.nacks, 'count')} NACKs
 (${live('webrtc.retransmitted', viewer.webrtc.retransmitted, 'count')} resent), ${live('webrtc.keyframeRequests', viewer.webrtc.keyframeRequests, 'count')} PLIs,
 ${live('webrtc.packetsSent', viewer.webrtc.packetsSent, 'count')} packets</small>`;
}

function stderrBlock(stream: StreamStatus): Markup {
  if (!stream.ffmpeg) return join([]);
  return html`<div class="ffmpeg-error">${live('ffmpeg.lastError.message', stream.ffmpeg.lastError?.message ?? null, 'note', 'strong')}
 ${live('ffmpeg.lastError.at', stream.ffmpeg.lastError?.at ?? null, 'note', 'small')}
<pre class="stderr">${live('ffmpeg.stderrTail', stream.ffmpeg.stderrTail, 'text', 'code')}</pre></div>`;
}
