import type Router from '@koa/router';
import type { Logger } from '../../lib/log.ts';
import { WebRtcEdge, type WebRtcHost } from './edge.ts';
import { isWhepRequest, registerWhepRoutes } from './routes.ts';

/** WebRTC playback as the HTTP edge mounts it: the WHEP routes, the methods they take, and close(). */
export interface WebRtcOutput {
  readonly edge: WebRtcEdge;
  register(router: Router): void;
  accepts(method: string, path: string): boolean;
  close(): Promise<void>;
}

/** Starts the WHEP edge of a relay (sessions are made on demand; nothing listens until the first offer). */
export function startWebRtc(host: WebRtcHost, log: Logger): WebRtcOutput {
  const edge = new WebRtcEdge(host, log);
  return {
    edge,
    register: (router) => registerWhepRoutes(router, edge),
    accepts: isWhepRequest,
    close: () => edge.close(),
  };
}
