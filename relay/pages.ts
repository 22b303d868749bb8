import type Router from '@koa/router';
import type { Relay } from './relay.ts';
import { statusSnapshot, type StatusSnapshot } from './status.ts';

const escapeHtml = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** The status stream's URL (the `<Stream NAME>` with `Format status`), if the config declares one. */
function statusStreamName(relay: Relay): string | undefined {
  return relay.config.streams.find((stream) => stream.format === 'status')?.name;
}

/** Registers /, /stat.json and the status page (at the name its Stream block gives, usually stat.html). */
export function registerPages(router: Router, relay: Relay): void {
  router.get('/stat.json', (ctx) => {
    ctx.set('Cache-Control', 'no-cache');
    ctx.body = statusSnapshot(relay);
  });
  router.get('/', (ctx) => {
    ctx.type = 'text/html; charset=utf-8';
    ctx.body = renderIndex(statusSnapshot(relay));
  });
  router.get(/^\/([A-Za-z0-9][A-Za-z0-9._-]{0,127})$/, async (ctx, next) => {
    if (ctx.path.slice(1) !== statusStreamName(relay)) return next();
    ctx.type = 'text/html; charset=utf-8';
    ctx.set('Cache-Control', 'no-cache');
    ctx.body = renderStatus(statusSnapshot(relay));
  });
}

function renderIndex(snapshot: StatusSnapshot): string {
  const rows = snapshot.cameras
    .map((camera) => {
      const links = snapshot.streams
        .filter((stream) => stream.feed === camera.name)
        .map((stream) => `<a href="${escapeHtml(stream.url)}">${escapeHtml(stream.name)}</a> (${stream.format})`)
        .join(', ');
      return `<tr><td>${escapeHtml(camera.name)}</td><td>${escapeHtml(camera.state)}</td><td>${links}</td></tr>`;
    })
    .join('\n');
  return page('Cameras', `<table><tr><th>Camera</th><th>State</th><th>Streams</th></tr>${rows}</table>`);
}

function renderStatus(snapshot: StatusSnapshot): string {
  const { server } = snapshot;
  const cameras = snapshot.cameras
    .map(
      (c) =>
        `<tr><td>${escapeHtml(c.name)}</td><td>${escapeHtml(c.kind)}</td><td>${escapeHtml(c.source)}</td><td>${escapeHtml(c.state)}</td>` +
        `<td>${c.framesIn}</td><td>${c.bytesIn}</td><td>${c.reconnects}</td><td>${escapeHtml(c.lastError?.message ?? '')}</td></tr>`,
    )
    .join('\n');
  const streams = snapshot.streams
    .map(
      (s) =>
        `<tr><td><a href="${escapeHtml(s.url)}">${escapeHtml(s.name)}</a></td><td>${s.format}</td><td>${s.viewers}</td>` +
        `<td>${s.bytesOut}</td><td>${s.drops}</td><td>${escapeHtml(s.ffmpeg ? `${s.ffmpeg.state} pid ${s.ffmpeg.pid ?? '-'}` : 'passthrough')}</td></tr>`,
    )
    .join('\n');
  return page(
    'Relay status',
    `<p>version ${server.version}, up ${server.uptimeSeconds} s, ffmpeg ${escapeHtml(server.ffmpeg.version)} (${escapeHtml(server.ffmpeg.origin)}), ` +
      `viewers ${server.viewers}/${server.maxClients || '∞'}, refused ${server.refused}</p>` +
      `<h2>Cameras</h2><table><tr><th>Name</th><th>Kind</th><th>Host</th><th>State</th><th>Frames in</th><th>Bytes in</th><th>Reconnects</th><th>Last error</th></tr>${cameras}</table>` +
      `<h2>Streams</h2><table><tr><th>Name</th><th>Format</th><th>Viewers</th><th>Bytes out</th><th>Drops</th><th>ffmpeg</th></tr>${streams}</table>`,
  );
}

function page(title: string, body: string): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>${title}</title></head><body><h1>${title}</h1>${body}</body></html>`;
}
