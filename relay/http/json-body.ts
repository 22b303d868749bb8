import type { IncomingMessage } from 'node:http';
import type { Context } from 'koa';

/** Why a body could not be read: too large, too slow, cut off, not JSON (or too deep), or not sent as JSON. */
export type BodyProblem = 'too-large' | 'timeout' | 'interrupted' | 'invalid' | 'not-json-type';

const STATUS_OF: Record<BodyProblem, 400 | 408 | 413 | 415> = {
  'too-large': 413, timeout: 408, interrupted: 400, invalid: 400, 'not-json-type': 415,
};

/** Why a request body was refused; `status` is the HTTP status to answer with, `message` is safe to show. */
export class BodyError extends Error {
  override readonly name = 'BodyError';
  readonly expose = true;
  readonly status: 400 | 408 | 413 | 415;
  constructor(
    message: string,
    readonly problem: BodyProblem = 'invalid',
  ) {
    super(message);
    this.status = STATUS_OF[problem];
  }
}

/** Nesting deeper than this is refused even when the JSON is small (`[[[[...]]]]` costs stack elsewhere). */
const DEFAULT_MAX_DEPTH = 20;
/** A body that has not arrived by then is refused: a client that sends headers and then nothing holds no request open. */
const DEFAULT_TIMEOUT_MS = 10_000;

/**
 * Reads a request's JSON body with limits, for every Koa JSON API: `application/json` only, at most `maxBytes` (a
 * larger Content-Length is refused before a byte is read, a longer body as soon as it passes the limit; the connection
 * then closes), and at most `maxDepth` levels of nesting. Throws BodyError, which Koa shows as its status and message.
 */
export async function readJsonBody(ctx: Context, maxBytes: number, maxDepth = DEFAULT_MAX_DEPTH, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<unknown> {
  if (!ctx.is('application/json')) throw new BodyError('the body must be application/json', 'not-json-type');
  try {
    return parseJson(await readBodyText(ctx.req, maxBytes, timeoutMs), maxDepth);
  } catch (error) {
    if (error instanceof BodyError && error.problem !== 'invalid') ctx.set('Connection', 'close');
    throw error;
  }
}

/**
 * Reads a body as readJsonBody does, whatever its Content-Type, and takes only a JSON object (no array, string or
 * null). Nesting is unlimited unless `maxDepth` says: the size limit already bounds what JSON.parse is given.
 */
export async function readJsonObject(request: IncomingMessage, maxBytes: number, timeoutMs: number, maxDepth = Number.POSITIVE_INFINITY): Promise<Record<string, unknown>> {
  return parseJsonObject(await readBodyText(request, maxBytes, timeoutMs), maxDepth);
}

/** Parses a body's text as a JSON object (no array, string or null), within the nesting limit. */
export function parseJsonObject(text: string, maxDepth = Number.POSITIVE_INFINITY): Record<string, unknown> {
  const value = parseJson(text, maxDepth);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new BodyError('the body must be a JSON object');
  return value as Record<string, unknown>;
}

/** Parses a body's text: empty, too deeply nested and malformed JSON are BodyErrors. */
export function parseJson(text: string, maxDepth = DEFAULT_MAX_DEPTH): unknown {
  if (text.trim() === '') throw new BodyError('the body is empty');
  if (maxDepth !== Number.POSITIVE_INFINITY && nestingDepth(text) > maxDepth) throw new BodyError(`the JSON nests deeper than ${maxDepth} levels`);
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new BodyError('the body is not valid JSON');
  }
}

/**
 * Reads a request body of at most `maxBytes` as UTF-8 text within `timeoutMs`; a body that does not arrive in time
 * (a client that sends headers and then nothing) is a BodyError with problem 'timeout', never a request left open.
 */
export function readBodyText(request: IncomingMessage, maxBytes: number, timeoutMs: number): Promise<string> {
  const declared = request.headers['content-length'];
  const tooLarge = (): BodyError => new BodyError(`the body is limited to ${maxBytes} bytes`, 'too-large');
  if (declared !== undefined && (!/^\d{1,15}$/.test(declared) || Number(declared) > maxBytes)) return Promise.reject(tooLarge());
  return new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const timer = setTimeout(() => fail(new BodyError(`the body did not arrive within ${timeoutMs / 1000} s`, 'timeout')), timeoutMs);
    const cleanup = (): void => {
      clearTimeout(timer);
      request.off('data', onData).off('end', onEnd).off('error', onError);
    };
    const fail = (error: Error): void => {
      cleanup();
      request.resume(); // drain the rest without keeping it
      reject(error);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > maxBytes) return fail(tooLarge());
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      cleanup();
      resolve(Buffer.concat(chunks).toString('utf8'));
    };
    const onError = (): void => fail(new BodyError('the body was cut off', 'interrupted'));
    request.on('data', onData).on('end', onEnd).on('error', onError);
  });
}

/** The deepest nesting of [ and { outside strings, found in one pass without parsing. */
function nestingDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '[' || c === '{') deepest = Math.max(deepest, ++depth);
    else if (c === ']' || c === '}') depth--;
  }
  return deepest;
}
