import type { Context } from 'koa';
import { BodyError, parseJsonObject, readBodyText } from '../http/json-body.ts';
import { VodError } from '../../media/file/errors.ts';
import type { VodStreams } from './streams.ts';

/** Largest request body the API reads; its requests are a few short strings. */
export const MAX_API_BODY_BYTES = 16 * 1024;
/** A body that has not arrived after this long is answered 408: a client holding requests open must not hold them for ever. */
export const API_BODY_TIMEOUT_MS = 10_000;

/**
 * POST /api/vod/{startup,find,find_all,terminate}: JSON in, JSON out. Bodies are capped, parsed defensively and
 * checked field by field; anything else is a 400 with a code, never a crash.
 */
export async function handleVodApi(ctx: Context, streams: VodStreams): Promise<void> {
  const verb = ctx.path.slice('/api/vod/'.length);
  if (!['startup', 'find', 'find_all', 'terminate'].includes(verb)) throw new VodError('STREAM_NOT_FOUND', 'Unknown API method');
  if (ctx.method !== 'POST') {
    ctx.set('Allow', 'POST');
    throw new VodError('METHOD_NOT_ALLOWED', 'Use POST with a JSON body');
  }
  const body = await readJsonBody(ctx);
  ctx.set('Cache-Control', 'no-store');
  if (verb === 'find_all') {
    ctx.body = streams.findAll();
    return;
  }
  const name = stringField(body, 'localStreamName', true)!;
  if (verb === 'find') ctx.body = [streams.find(name)];
  else if (verb === 'terminate') ctx.body = await streams.terminate(name);
  else {
    const uri = stringField(body, 'uri', true)!;
    const loop = body.loop ?? false;
    if (typeof loop !== 'boolean') throw new VodError('BAD_REQUEST', 'loop: true or false');
    const access = body.access;
    if (access !== undefined && access !== 'public' && access !== 'token') throw new VodError('BAD_REQUEST', 'access: "public" or "token" (left out: DefaultAccess)');
    ctx.body = await streams.startup(uri, name, loop, access);
  }
}

/**
 * Reads at most MAX_API_BODY_BYTES within API_BODY_TIMEOUT_MS and parses it as a JSON object; an empty body is an
 * empty object. A body too large or too slow is answered, and the connection closed so the rest is never read.
 */
async function readJsonBody(ctx: Context): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = (await readBodyText(ctx.req, MAX_API_BODY_BYTES, API_BODY_TIMEOUT_MS)).trim();
  } catch (error) {
    if (!(error instanceof BodyError)) throw error;
    ctx.set('Connection', 'close');
    if (error.problem === 'too-large') throw new VodError('BODY_TOO_LARGE', `The body is larger than ${MAX_API_BODY_BYTES} bytes`);
    if (error.problem === 'timeout') throw new VodError('REQUEST_TIMEOUT', `The body did not arrive within ${API_BODY_TIMEOUT_MS / 1000} s`);
    throw new VodError('BAD_REQUEST', 'The body was cut off');
  }
  if (text === '') return {};
  try {
    return parseJsonObject(text);
  } catch (error) {
    if (!(error instanceof BodyError)) throw error;
    throw new VodError('BAD_REQUEST', error.message.replace(/^the/, 'The'));
  }
}

function stringField(body: Record<string, unknown>, name: string, required: boolean): string | undefined {
  const value = Object.hasOwn(body, name) ? body[name] : undefined;
  if (value === undefined && !required) return undefined;
  if (typeof value !== 'string' || value.length === 0 || value.length > 2048) throw new VodError('BAD_REQUEST', `${name}: a non-empty string is required`);
  return value;
}
