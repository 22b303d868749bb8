import type { OutputProtocol } from '../outputs/registry.ts';
import { WebRtcEdge } from './edge.ts';
import { isWhepRequest, registerWhepRoutes } from './routes.ts';

/**
 * WebRTC (WHEP) as an output protocol: /NAME/whep for every H.264 Stream with `WebRTC yes`, on the HTTP edge's router.
 * Sessions are made on demand; nothing listens until the first offer.
 */
export const webRtcProtocol: OutputProtocol = {
  name: 'webrtc',
  formats: [],
  start: async (env) => {
    const edge = new WebRtcEdge(env, env.log.child('webrtc'));
    env.http.routes((router) => registerWhepRoutes(router, edge), isWhepRequest);
    return edge;
  },
};
