import { ServerResponse, type IncomingMessage, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type Koa from 'koa';
import type { Middleware } from 'koa';
import type { Logger } from '../../../lib/log.ts';
import { WsEdge, type Upgrade, type WsRelay } from './edge.ts';

const UPGRADE = Symbol('relay.webSocketUpgrade');
type UpgradeRequest = IncomingMessage & { [UPGRADE]?: Upgrade & { readonly edge: WsEdge } };

/** `/NAME.ws`: the stream NAME over a WebSocket. */
const WS_PATH = /^\/([^/]+)\.ws$/;

/**
 * Serves /NAME.ws on the relay's HTTP (and HTTPS) servers. Every upgrade request runs through the Koa app like any
 * request, so the same gate applies (Host check, TrustProxy, RedirectToHTTPS, MaxClientsPerIP, viewer tokens);
 * webSocketRoute then completes the handshake, and any other path is answered as plain HTTP and the connection closed.
 */
export function mountWebSocket(relay: WsRelay, app: Koa, servers: ReadonlyArray<Server | undefined>, log: Logger): WsEdge {
  const edge = new WsEdge(relay, log);
  const handle = app.callback();
  for (const server of servers) {
    server?.on('upgrade', (req: UpgradeRequest, socket: Duplex, head: Buffer) => {
      // A client that resets mid-handshake is a viewer gone, not an error.
      socket.on('error', () => socket.destroy());
      req[UPGRADE] = { socket, head, edge };
      const res = new ServerResponse(req);
      res.assignSocket(socket as never);
      res.shouldKeepAlive = false;
      // An answer other than the handshake (401, 403, 404, 503) ends the connection once written.
      res.once('finish', () => {
        res.detachSocket(socket as never);
        socket.end();
        setTimeout(() => socket.destroy(), 1000).unref();
      });
      void handle(req, res);
    });
  }
  return edge;
}

/**
 * The Koa step for /NAME.ws, placed after the access gate: an upgrade request is handed to the WebSocket edge; a plain
 * GET of a WebSocket stream is told to upgrade (426). Anything else goes on to the other routes.
 */
export function webSocketRoute(relay: { readonly outputs: ReadonlyMap<string, { readonly config: { readonly webSocket: boolean } }> }): Middleware {
  return async (ctx, next) => {
    const name = WS_PATH.exec(ctx.path)?.[1];
    // A stream whose own name ends in .ws is served as itself.
    if (name === undefined || relay.outputs.has(`${name}.ws`)) return next();
    const upgrade = (ctx.req as UpgradeRequest)[UPGRADE];
    if (upgrade) return upgrade.edge.accept(ctx, name, upgrade);
    if (!relay.outputs.get(name)?.config.webSocket) return next();
    ctx.status = 426;
    ctx.set('Upgrade', 'websocket');
    ctx.set('Connection', 'Upgrade');
    ctx.type = 'text/plain';
    ctx.body = `${ctx.path} is a WebSocket endpoint: connect with a WebSocket client\n`;
  };
}
