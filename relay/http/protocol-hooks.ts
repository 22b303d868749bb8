import { ServerResponse, type IncomingMessage, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import Router from '@koa/router';
import type Koa from 'koa';
import type { Context, Middleware } from 'koa';

/** What an upgrade request brings besides the request: the socket and the bytes read after its headers. */
export interface Upgrade {
  readonly socket: Duplex;
  readonly head: Buffer;
}

/** Requests beyond GET and HEAD that a protocol's routes take (WHEP's POST, PATCH, DELETE, OPTIONS). */
export type MethodFilter = (method: string, path: string) => boolean;

/** What an output protocol may add to the HTTP edge; both sit behind the edge's access gate. */
export interface HttpHooks {
  /** Adds routes ahead of the stream routes; `accepts` lets through the methods beyond GET and HEAD they take. */
  routes(register: (router: Router) => void, accepts?: MethodFilter): void;
  /** Hands an upgrade request whose path `matches` to `handler` once the gate has passed it. */
  onUpgrade(matches: (path: string) => boolean, handler: (ctx: Context, upgrade: Upgrade) => void): void;
}

const UPGRADE = Symbol('relay.upgrade');
type UpgradeRequest = IncomingMessage & { [UPGRADE]?: Upgrade };

/**
 * The HTTP edge's side of HttpHooks: protocols register while they start (after the app is built), so the routes and
 * upgrade handlers are looked up per request. Every upgrade request runs through the Koa app like any request, so the
 * same gate applies (Host check, TrustProxy, RedirectToHTTPS, MaxClientsPerIP, viewer tokens); one no protocol takes
 * is answered as plain HTTP and its connection closed.
 */
export class ProtocolHttp implements HttpHooks {
  private readonly router = new Router();
  private readonly filters: MethodFilter[] = [];
  private readonly upgrades: Array<{ readonly matches: (path: string) => boolean; readonly handler: (ctx: Context, upgrade: Upgrade) => void }> = [];

  routes(register: (router: Router) => void, accepts?: MethodFilter): void {
    register(this.router);
    if (accepts) this.filters.push(accepts);
  }

  onUpgrade(matches: (path: string) => boolean, handler: (ctx: Context, upgrade: Upgrade) => void): void {
    this.upgrades.push({ matches, handler });
  }

  /** Whether a protocol's routes take this method beyond GET and HEAD. */
  accepts(method: string, path: string): boolean {
    return this.filters.some((accepts) => accepts(method, path));
  }

  /** The Koa step, placed after the access gate: upgrades to their protocol, then the protocols' routes. */
  middleware(): Middleware {
    const routes = this.router.routes() as Middleware;
    return async (ctx, next) => {
      const upgrade = (ctx.req as UpgradeRequest)[UPGRADE];
      const hook = upgrade && this.upgrades.find((candidate) => candidate.matches(ctx.path));
      if (upgrade && hook) return hook.handler(ctx, upgrade);
      return routes(ctx, next);
    };
  }

  /** Runs the upgrade requests of `server` through `app`. */
  attach(server: Server, app: Koa): void {
    const handle = app.callback();
    server.on('upgrade', (req: UpgradeRequest, socket: Duplex, head: Buffer) => {
      // A client that resets mid-handshake is a viewer gone, not an error.
      socket.on('error', () => socket.destroy());
      req[UPGRADE] = { socket, head };
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
}
