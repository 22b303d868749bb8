import type Router from '@koa/router';
import type { Context } from 'koa';
import { RelayError } from '../core/errors.ts';
import type { WebRtcEdge } from './edge.ts';
import { MAX_OFFER_BYTES } from './offer.ts';

const NAME = '[A-Za-z0-9][A-Za-z0-9._-]{0,127}';
const SESSION_ID = '[A-Za-z0-9_-]{1,64}';
const ENDPOINT = new RegExp(`^/(${NAME})/whep$`);
const SESSION = new RegExp(`^/(${NAME})/whep/(${SESSION_ID})$`);
const MAX_PATCH_BYTES = 16 * 1024;
const MAX_TRICKLED_CANDIDATES = 64;

/** True for the requests WHEP makes beside GET: POST (offer), PATCH (trickle ICE), DELETE, OPTIONS (CORS). */
export function isWhepRequest(method: string, path: string): boolean {
  if (method === 'OPTIONS') return ENDPOINT.test(path) || SESSION.test(path);
  if (method === 'POST') return ENDPOINT.test(path);
  return (method === 'PATCH' || method === 'DELETE') && SESSION.test(path);
}

/** The stream name and session id a WHEP path names (the router's regular-expression captures are not passed on). */
function pathParts(ctx: Context): { name: string; id: string } {
  const [, name = '', id = ''] = SESSION.exec(ctx.path) ?? ENDPOINT.exec(ctx.path) ?? [];
  return { name, id };
}

/** Reads a text body of one content type, at most `maxBytes`; a longer one is refused as soon as it passes the limit. */
async function readTextBody(ctx: Context, type: string, maxBytes: number): Promise<string> {
  if (!ctx.is(type)) throw Object.assign(new Error(`the body must be ${type}`), { status: 415, expose: true });
  const declared = Number(ctx.get('content-length') || 0);
  const chunks: Buffer[] = [];
  let size = 0;
  if (declared > maxBytes) size = declared;
  else {
    for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > maxBytes) break;
      chunks.push(chunk);
    }
  }
  if (size > maxBytes) {
    ctx.set('Connection', 'close');
    ctx.req.pause();
    throw Object.assign(new Error(`the body is limited to ${maxBytes} bytes`), { status: 413, expose: true });
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** CORS for players on other origins: they post offers, read the Location, and trickle and delete by it. */
function allowCrossOrigin(ctx: Context, methods: string): void {
  ctx.set('Access-Control-Allow-Origin', '*');
  ctx.set('Access-Control-Allow-Methods', methods);
  ctx.set('Access-Control-Allow-Headers', 'Authorization, Content-Type, If-Match');
  ctx.set('Access-Control-Expose-Headers', 'Location, ETag, Link');
}

/** The `a=candidate:` lines of a trickle-ice-sdpfrag body (RFC 8840), as candidate strings. */
function trickledCandidates(fragment: string): string[] {
  const candidates = fragment.split(/\r?\n/).filter((line) => line.startsWith('a=candidate:')).map((line) => line.slice(2).trim());
  if (candidates.length > MAX_TRICKLED_CANDIDATES) throw new RelayError('BAD_REQUEST', `at most ${MAX_TRICKLED_CANDIDATES} candidates per PATCH`);
  return candidates;
}

/** Registers the WHEP resource (`/NAME/whep`) and its sessions (`/NAME/whep/ID`) on the HTTP edge's router. */
export function registerWhepRoutes(router: Router, edge: WebRtcEdge): void {
  router.options(ENDPOINT, (ctx) => {
    allowCrossOrigin(ctx, 'POST, OPTIONS');
    ctx.set('Accept-Post', 'application/sdp');
    ctx.status = 204;
  });
  router.options(SESSION, (ctx) => {
    allowCrossOrigin(ctx, 'PATCH, DELETE, OPTIONS');
    ctx.set('Accept-Patch', 'application/trickle-ice-sdpfrag');
    ctx.status = 204;
  });
  router.post(ENDPOINT, async (ctx) => {
    allowCrossOrigin(ctx, 'POST, OPTIONS');
    const { name } = pathParts(ctx);
    const sdp = await readTextBody(ctx, 'application/sdp', MAX_OFFER_BYTES);
    const { answer, id } = await edge.offer(name, sdp, ctx.ip || 'unknown');
    ctx.status = 201;
    ctx.set('Location', `/${name}/whep/${id}`);
    ctx.set('Cache-Control', 'no-store');
    ctx.type = 'application/sdp';
    ctx.body = answer;
  });
  router.patch(SESSION, async (ctx) => {
    allowCrossOrigin(ctx, 'PATCH, DELETE, OPTIONS');
    const session = edge.session(pathParts(ctx).name, pathParts(ctx).id);
    const fragment = await readTextBody(ctx, 'application/trickle-ice-sdpfrag', MAX_PATCH_BYTES);
    try {
      session.addRemoteCandidates(trickledCandidates(fragment));
    } catch (error) {
      if (error instanceof RelayError) throw error;
      throw new RelayError('BAD_REQUEST', 'a trickled candidate was refused');
    }
    ctx.status = 204;
  });
  router.delete(SESSION, (ctx) => {
    allowCrossOrigin(ctx, 'PATCH, DELETE, OPTIONS');
    edge.session(pathParts(ctx).name, pathParts(ctx).id).close('ended by the viewer');
    ctx.status = 200;
    ctx.body = '';
  });
}
