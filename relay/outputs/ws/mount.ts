import type { Context } from 'koa';
import type { OutputProtocol, ProtocolEnv } from '../registry.ts';
import { WsEdge } from './edge.ts';

/** `/NAME.ws`: the stream NAME over a WebSocket. */
const WS_PATH = /^\/([^/]+)\.ws$/;

/** The stream a /NAME.ws path names; undefined for another path or a stream whose own name ends in .ws (served as itself). */
function webSocketName(env: ProtocolEnv, path: string): string | undefined {
  const name = WS_PATH.exec(path)?.[1];
  return name === undefined || env.output(`${name}.ws`) ? undefined : name;
}

/**
 * WebSocket as an output protocol: /NAME.ws for every Stream with `WebSocket yes`, on the relay's HTTP (and HTTPS)
 * servers. The upgrade reaches the edge after the HTTP edge's access gate; a plain GET of a WebSocket stream is told
 * to upgrade (426).
 */
export const webSocketProtocol: OutputProtocol = {
  name: 'ws',
  formats: [],
  start: async (env) => {
    const edge = new WsEdge(env, env.log.child('ws'));
    env.http.onUpgrade((path) => webSocketName(env, path) !== undefined, (ctx, upgrade) => edge.accept(ctx, webSocketName(env, ctx.path)!, upgrade));
    env.http.routes((router) => router.get(WS_PATH, async (ctx, next) => {
      const name = webSocketName(env, ctx.path);
      if (name === undefined || !env.output(name)?.config.webSocket) return next();
      askToUpgrade(ctx);
    }));
    return edge;
  },
};

function askToUpgrade(ctx: Context): void {
  ctx.status = 426;
  ctx.set('Upgrade', 'websocket');
  ctx.set('Connection', 'Upgrade');
  ctx.type = 'text/plain';
  ctx.body = `${ctx.path} is a WebSocket endpoint: connect with a WebSocket client\n`;
}
