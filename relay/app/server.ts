import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa, { type Context } from 'koa';
import { isConfigApiWrite, registerConfigApi, type ConfigReload } from '../api/config-api.ts';
import Router from '@koa/router';
import { RelayError } from '../core/errors.ts';
import type { Logger } from '../../lib/log.ts';
import type { Relay } from '../running/relay.ts';
import type { StreamOutput } from '../outputs/output.ts';
import { registerPages } from './pages.ts';
import { registerPushApi } from '../api/push-api.ts';
import { registerVodRoutes } from '../vod/routes.ts';
import { registerRecordingRoutes } from '../recording/api.ts';
import type { RecordingsRef } from '../recording/recordings.ts';
import { registerEdgeCheck } from '../auth/edge-check.ts';
import { registerControlRoutes } from '../control/routes.ts';
import { OPENAPI_DOCUMENT } from '../api/openapi.ts';
import { accessGuard } from '../auth/guard.ts';
import { securityHeaders } from '../http/security-headers.ts';
import { keepAliveAfterLargeResponses } from '../http/keep-alive.ts';
import { ProtocolHttp } from '../http/protocol-hooks.ts';

/** Longest request path accepted; real stream URLs are short. */
const MAX_PATH_LENGTH = 1024;
const NAME = '[A-Za-z0-9][A-Za-z0-9._-]{0,127}';

/** What the HTTP edge is handed besides the relay (built in relay/app/main.ts). */
export interface AppParts {
  /** The relay's recordings of the moment (a reload replaces them). */
  readonly recordings: RecordingsRef;
  /** What output protocols add to the edge as they start (WHEP's routes, the WebSocket upgrade). */
  readonly protocols: ProtocolHttp;
  /** Applies a relay.conf the config API wrote, as SIGHUP would. */
  readonly reloadConfig: ConfigReload;
}

/** Builds the Koa app: streams at /NAME (as ffserver), HLS segments at /PREFIX/SEGMENT, redirects, pages. */
export function createApp(relay: Relay, log: Logger, { recordings, protocols, reloadConfig }: AppParts): Koa {
  const app = new Koa();
  app.proxy = false;
  // Koa's default error printer writes raw stacks; every error goes through the logger instead, one line each.
  app.silent = true;
  app.on('error', (error: NodeJS.ErrnoException, ctx?: Context) => {
    if (isViewerGone(error)) return;
    log.error(`${ctx ? `${ctx.method} ${ctx.path}: ` : ''}${error.code ?? error.name}: ${error.message}`);
  });
  const router = new Router();

  app.use(async (ctx, next) => {
    try {
      if (ctx.path.length > MAX_PATH_LENGTH) throw new RelayError('BAD_REQUEST', 'request path too long');
      const apiPost = ctx.method === 'POST' && ctx.path.startsWith('/api/') || isConfigApiWrite(ctx.method, ctx.path);
      const mounted = protocols.accepts(ctx.method, ctx.path);
      if (ctx.method !== 'GET' && ctx.method !== 'HEAD' && !apiPost && !mounted) {
        ctx.set('Allow', 'GET, HEAD');
        ctx.status = 405;
        ctx.body = 'method not allowed\n';
        return;
      }
      await next();
    } catch (error) {
      sendError(ctx, error, log);
    }
  });

  app.use(securityHeaders());
  app.use(accessGuard(relay));
  app.use(protocols.middleware());
  router.get('/api/openapi.json', (ctx) => { ctx.body = OPENAPI_DOCUMENT; });
  registerPages(router, relay, recordings);
  registerEdgeCheck(router, relay);
  registerPushApi(router, relay, log.child('api'));
  registerConfigApi(router, relay, relay.deps.adapters.schemes, log.child('api'), reloadConfig);
  registerVodRoutes(router, relay, log);
  registerRecordingRoutes(router, relay, recordings);
  registerControlRoutes(router, relay);

  router.get(new RegExp(`^/(${NAME})$`), async (ctx) => {
    const name = ctx.params[0] ?? decodeURIComponent(ctx.path.slice(1));
    const redirect = relay.config.redirects.find((candidate) => candidate.name === name);
    if (redirect) return ctx.redirect(redirect.url);
    await serveStream(ctx, relay, relay.outputs.get(name), '');
  });

  router.get(new RegExp(`^/(${NAME})/(${NAME})$`), async (ctx) => {
    const [, prefix, segment] = /^\/([^/]+)\/([^/]+)$/.exec(ctx.path) ?? [];
    await serveStream(ctx, relay, relay.outputByResourcePrefix(prefix ?? ''), segment ?? '');
  });

  app.use(router.routes());
  app.use(async (ctx) => {
    if (ctx.status === 404 && !ctx.body) throw new RelayError('NOT_FOUND', `no stream at ${ctx.path}`);
  });
  return app;
}

async function serveStream(ctx: Context, relay: Relay, output: StreamOutput | undefined, subpath: string): Promise<void> {
  if (!output) throw new RelayError('NOT_FOUND', `no stream at ${ctx.path}`);
  if (output.needsAdmission(ctx, subpath)) {
    const refusal = relay.admission.check(output);
    if (refusal) throw new RelayError('FULL', refusal.reason);
  }
  if (ctx.method === 'HEAD' && output.fanout) {
    ctx.status = 200;
    return;
  }
  await output.serve(ctx, subpath);
}

/** Errors that only mean the viewer went away (closed, reset, timed out): normal for a live server, never logged. */
const VIEWER_GONE = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'ETIMEDOUT', 'ERR_STREAM_WRITE_AFTER_END', 'ERR_STREAM_PREMATURE_CLOSE', 'ERR_STREAM_DESTROYED']);

export function isViewerGone(error: unknown): boolean {
  return VIEWER_GONE.has((error as NodeJS.ErrnoException)?.code ?? '');
}

/** Maps errors to statuses; only RelayError and Koa's own exposed errors show their message. */
function sendError(ctx: Context, error: unknown, log: Logger): void {
  if (isViewerGone(error)) return;
  if (ctx.headerSent || !ctx.writable) return;
  if (error instanceof RelayError) {
    ctx.status = error.status;
    // A full server frees up slowly; a stream that is starting is usually there within a couple of seconds.
    if (error.code === 'FULL') ctx.set('Retry-After', '5');
    if (error.code === 'NOT_READY') ctx.set('Retry-After', '2');
    ctx.type = 'text/plain';
    ctx.body = `${error.message}\n`;
    return;
  }
  const httpError = error as { status?: number; expose?: boolean; message?: string };
  if (typeof httpError.status === 'number' && httpError.status < 500) {
    ctx.status = httpError.status;
    ctx.type = 'text/plain';
    ctx.body = `${httpError.expose ? httpError.message : 'error'}\n`;
    return;
  }
  log.error(`request ${ctx.method} ${ctx.path} failed: ${(error as Error)?.stack ?? String(error)}`.replace(/\n\s*/g, ' | '));
  ctx.status = 500;
  ctx.type = 'text/plain';
  ctx.body = 'internal error\n';
}

/** Starts listening; resolves with the server and the port actually bound (HTTPPort 0 picks one). */
export async function listen(app: Koa, port: number, host: string): Promise<{ server: Server; port: number }> {
  const server = createServer({ maxHeaderSize: 16 * 1024, connectionsCheckingInterval: 1_000 }, app.callback());
  server.headersTimeout = 10_000;
  server.requestTimeout = 0; // live responses last as long as the viewer watches
  server.maxHeadersCount = 100;
  server.keepAliveTimeout = 5_000;
  keepAliveAfterLargeResponses(server);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('clientError', (error: NodeJS.ErrnoException, socket) => {
    // A malformed request gets a plain status before the socket closes; a viewer that vanished (reset) just closes.
    if (!socket.writable || error.code === 'ECONNRESET' || (socket as { _httpMessage?: unknown })._httpMessage) {
      socket.destroy();
      return;
    }
    const status = error.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : '400 Bad Request';
    // Destroyed once written: a client that never reads would otherwise hold the half-closed socket for ever.
    socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${status.length + 1}\r\n\r\n${status}\n`, () => socket.destroy());
  });
  return { server, port: (server.address() as AddressInfo).port };
}
