import type { IncomingMessage } from 'node:http';

/** Why a body could not be read: too large, too slow, cut off, or not a JSON object. */
export type BodyProblem = 'too-large' | 'timeout' | 'interrupted' | 'invalid';

/** Why a request body could not be read as a JSON object. */
export class BodyError extends Error {
  override readonly name = 'BodyError';
  constructor(
    message: string,
    readonly problem: BodyProblem = 'invalid',
  ) {
    super(message);
  }
}

/**
 * Reads a request body of at most `maxBytes` (refusing at once when Content-Length says more) and parses it as a JSON
 * object; arrays, strings, numbers and null are refused too. A body that does not finish within `timeoutMs` is refused.
 */
export async function readJsonObject(request: IncomingMessage, maxBytes: number, timeoutMs: number): Promise<Record<string, unknown>> {
  const text = await readBodyText(request, maxBytes, timeoutMs);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new BodyError('request body is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new BodyError('request body must be a JSON object');
  return value as Record<string, unknown>;
}

/**
 * Reads a request body of at most `maxBytes` as UTF-8 text within `timeoutMs`; a body that does not arrive in time
 * (a client that sends headers and then nothing) is a BodyError with problem 'timeout', never a request left open.
 */
export function readBodyText(request: IncomingMessage, maxBytes: number, timeoutMs: number): Promise<string> {
  const declared = Number(request.headers['content-length'] ?? 0);
  if (declared > maxBytes) return Promise.reject(new BodyError(`request body larger than ${maxBytes} bytes`, 'too-large'));
  return new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const timer = setTimeout(() => fail(new BodyError(`request body not received within ${timeoutMs / 1000} s`, 'timeout')), timeoutMs);
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
      if (size > maxBytes) return fail(new BodyError(`request body larger than ${maxBytes} bytes`, 'too-large'));
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      cleanup();
      resolve(Buffer.concat(chunks).toString('utf8'));
    };
    const onError = (): void => fail(new BodyError('request body interrupted', 'interrupted'));
    request.on('data', onData).on('end', onEnd).on('error', onError);
  });
}
