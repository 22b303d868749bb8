import type { Context } from 'koa';

/** Why a JSON body was refused; `status` is the HTTP status to answer with, `message` is safe to show. */
export class JsonBodyError extends Error {
  override readonly name = 'JsonBodyError';
  readonly expose = true;
  constructor(
    readonly status: 400 | 411 | 413 | 415,
    message: string,
  ) {
    super(message);
  }
}

/** Nesting deeper than this is refused even when the JSON is small (`[[[[...]]]]` costs stack elsewhere). */
const DEFAULT_MAX_DEPTH = 20;

/**
 * Reads a request's JSON body with limits, for every JSON API: at most `maxBytes` (a larger Content-Length is refused
 * before a byte is read, a longer body as soon as it passes the limit), `application/json` only, and at most
 * `maxDepth` levels of nesting. Throws JsonBodyError, which Koa's error handling shows as its status and message.
 */
export async function readJsonBody(ctx: Context, maxBytes: number, maxDepth = DEFAULT_MAX_DEPTH): Promise<unknown> {
  if (!ctx.is('application/json')) throw new JsonBodyError(415, 'the body must be application/json');
  const declared = ctx.get('content-length');
  if (declared && (!/^\d{1,15}$/.test(declared) || Number(declared) > maxBytes)) {
    ctx.set('Connection', 'close');
    throw new JsonBodyError(413, `the body is limited to ${maxBytes} bytes`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) {
      // The answer goes out, then the connection closes: the rest of the body is never read.
      ctx.set('Connection', 'close');
      ctx.req.pause();
      throw new JsonBodyError(413, `the body is limited to ${maxBytes} bytes`);
    }
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') throw new JsonBodyError(400, 'the body is empty');
  if (nestingDepth(text) > maxDepth) throw new JsonBodyError(400, `the JSON nests deeper than ${maxDepth} levels`);
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new JsonBodyError(400, 'the body is not valid JSON');
  }
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
