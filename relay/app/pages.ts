import type Router from '@koa/router';
import type { Context, Next } from 'koa';
import { sampleHistory, StatusHistory } from './history.ts';
import { createMetricsRegistry } from './metrics.ts';
import { loadAsset } from './pages/assets.ts';
import { renderFlvPlayerPage } from './pages/flv-player-page.ts';
import { playerAliasTarget, type AliasedPlayer } from './player-alias.ts';
import { renderLivePlayerPage } from './pages/live-player-page.ts';
import { renderWebRtcPlayerPage } from './pages/webrtc-player-page.ts';
import { renderIndexPage } from './pages/index-page.ts';
import { renderCharts } from './pages/charts.ts';
import { renderPlayerPage, type PlayerRequest } from './pages/player-page.ts';
import { viewerStreamState } from './pages/player-state.ts';
import { renderWallPage, wallCameraNames } from './pages/wall-page.ts';
import { renderStatusPage } from './pages/status-page.ts';
import { renderAdminPage } from './pages/admin-page.ts';
import { RateSampler } from './rates.ts';
import type { Relay } from '../running/relay.ts';
import { statusSnapshot, type StreamStatus } from './status.ts';
import type { RecordingsRef } from '../recording/recordings.ts';
import { withViewerToken } from '../auth/viewer-link.ts';
import { reissueViewerToken } from '../auth/viewer-token.ts';

const NAME = '[A-Za-z0-9][A-Za-z0-9._-]{0,127}';

/** The status stream's URL (the `<Stream NAME>` with `Format status`), if the config declares one. */
function statusStreamName(relay: Relay): string | undefined {
  return relay.config.streams.find((stream) => stream.format === 'status')?.name;
}

/**
 * Registers /, /stat.json, /metrics, the status page (at the name its Stream block gives, usually stat.html),
 * /player/NAME for HLS and FLV streams, /player/NAME/state, /wall, /admin and /assets/*. Routes that do not match a page of theirs fall through, so a stream
 * named like one (e.g. player.m3u8, whose segments live under /player/) is still served.
 */
export function registerPages(router: Router, relay: Relay, recordings: RecordingsRef): void {
  const rates = new RateSampler(relay);
  const metrics = createMetricsRegistry(relay, rates, recordings);
  const snapshot = () => statusSnapshot(relay, rates, recordings);
  const history = new StatusHistory();
  sampleHistory(history, snapshot, relay.stopSignal);

  router.get('/stat.json', (ctx) => {
    ctx.set('Cache-Control', 'no-cache');
    ctx.body = snapshot();
  });
  router.get('/metrics', async (ctx) => {
    ctx.set('Cache-Control', 'no-cache');
    ctx.type = metrics.contentType;
    ctx.body = await metrics.metrics();
  });
  router.get('/', (ctx) => {
    sendHtml(ctx, renderIndexPage(snapshot(), statusStreamName(relay)));
  });
  router.get(new RegExp(`^/(${NAME})$`), async (ctx, next) => {
    if (ctx.path.slice(1) !== statusStreamName(relay)) return next();
    sendHtml(ctx, renderStatusPage(snapshot(), renderCharts(history)));
  });
  router.get('/admin', (ctx) => {
    sendHtml(ctx, renderAdminPage());
  });
  router.get('/wall', (ctx) => {
    const current = snapshot();
    sendHtml(ctx, renderWallPage(current, wallCameraNames(ctx.query.cameras, current)));
  });
  router.get(new RegExp(`^/player/(${NAME})$`), (ctx, next) => servePlayer(ctx, next, relay, snapshot));
  router.get(new RegExp(`^/player/(${NAME})/state$`), async (ctx, next) => {
    const state = viewerStreamState(snapshot(), ctx.path.slice('/player/'.length, -'/state'.length));
    if (!state) return next();
    ctx.set('Cache-Control', 'no-cache');
    ctx.set('Access-Control-Allow-Origin', '*');
    ctx.body = state;
  });
  router.get(new RegExp(`^/assets/(${NAME})$`), async (ctx, next) => {
    const asset = await loadAsset(ctx.path.slice('/assets/'.length));
    if (!asset) return next();
    ctx.type = asset.type;
    ctx.set('Cache-Control', 'public, max-age=300');
    ctx.set('Access-Control-Allow-Origin', '*');
    ctx.body = asset.body;
  });
}

async function servePlayer(ctx: Context, next: Next, relay: Relay, snapshot: () => ReturnType<typeof statusSnapshot>): Promise<void> {
  const { name, kind } = playerPage(relay, ctx.path.slice('/player/'.length));
  const player = relay.outputs.get(name)?.player;
  if (!player) return next();
  const { streams } = snapshot();
  const stream = streams.find((candidate) => candidate.name === name);
  if (!stream) return next();
  // A viewer token in the page's query goes on into the stream URLs the page plays; the camera's other streams the
  // page links (fallback, snippets) get a token of their own, with the same expiry, since a token opens one stream.
  const pageToken = ctx.query.token;
  const secret = relay.config.security.viewerTokenSecret;
  const tokenFor = (scope: string): string | undefined => {
    if (typeof pageToken !== 'string' || !secret) return undefined;
    return scope === name ? pageToken : reissueViewerToken(secret, name, pageToken, scope);
  };
  // Every URL a page can link for a stream carries its token: the stream, its player pages (HLS or FLV, WebSocket, WebRTC).
  const tokenized = (found: StreamStatus): StreamStatus => {
    const token = tokenFor(found.name);
    const signed = (url: string | null): string | null => url && withViewerToken(url, token);
    const { url, playerUrl, liveUrl, webrtcUrl } = found;
    return { ...found, url: withViewerToken(url, token), playerUrl: signed(playerUrl), liveUrl: signed(liveUrl), webrtcUrl: signed(webrtcUrl) };
  };
  const sibling = (wanted: string) => {
    const found = streams.find((candidate) => candidate.camera === stream.camera && candidate.format === wanted);
    return found && tokenized(found);
  };
  // Only a camera with a control backend gets the control panel: asking the others would log a 404 in every viewer's console.
  const cameraControl = relay.config.cameras.some((camera) => camera.name === stream.camera && camera.control.kind !== 'none');
  const request = { ...playerRequest(ctx), cameraControl, iceServers: relay.config.webrtcIceServers };
  if (kind === 'live') return sendHtml(ctx, renderLivePlayerPage(tokenized(stream), request));
  if (kind === 'webrtc') return sendHtml(ctx, renderWebRtcPlayerPage(tokenized(stream), request));
  if (player === 'flv') return sendHtml(ctx, renderFlvPlayerPage(tokenized(stream), sibling('hls'), request));
  sendHtml(ctx, renderPlayerPage(tokenized(stream), sibling('mpjpeg'), request));
}

/** Player pages autoplay muted unless the query says `autoplay=0` (or `muted=0` for sound, where allowed). */
function playerRequest(ctx: Context): PlayerRequest {
  const off = (key: string): boolean => ctx.query[key] === '0' || ctx.query[key] === 'false';
  const on = (key: string): boolean => key in ctx.query && !off(key);
  const autoplay = !off('autoplay');
  return {
    origin: ctx.host ? `${ctx.protocol}://${ctx.host}` : '',
    autoplay,
    muted: autoplay ? !off('muted') : on('muted'),
    embed: on('embed'),
  };
}

function sendHtml(ctx: Context, body: string): void {
  ctx.type = 'text/html; charset=utf-8';
  ctx.set('Cache-Control', 'no-cache');
  ctx.set('X-Content-Type-Options', 'nosniff');
  ctx.body = body;
}

/**
 * Which stream and player a /player/ page names: NAME (the stream's own player), NAME.live (WebSocket), NAME.webrtc,
 * or the short names BASE.live and BASE.webrtc (player-alias.ts), unless a stream is called so.
 */
function playerPage(relay: Relay, page: string): { name: string; kind: AliasedPlayer | 'default' } {
  for (const kind of ['live', 'webrtc'] as const) {
    if (!page.endsWith(`.${kind}`) || relay.outputs.get(page)) continue;
    const named = page.slice(0, -kind.length - 1);
    const config = relay.outputs.get(named)?.config;
    if (config && (kind === 'live' ? config.webSocket : config.webrtc)) return { name: named, kind };
    const target = playerAliasTarget(relay.config.streams, named, kind);
    if (target) return { name: target, kind };
  }
  return { name: page, kind: 'default' };
}
