import type { IncomingMessage } from 'node:http';
import { AdapterError } from '../errors.ts';
import { toAdapterError } from './client.ts';

/** How a response body is read: the consumer of each chunk, and the limits on silence and total time. */
export interface BodyReading {
  readonly signal: AbortSignal;
  /** Longest silence between bytes, ms. */
  readonly idleTimeoutMs: number;
  /** Longest time for the whole body, ms (a snapshot); undefined for an endless stream. */
  readonly totalTimeoutMs?: number;
  /** Gets each chunk; an error it throws ends the reading with that error. */
  onChunk(chunk: Buffer): void;
}

/**
 * Reads a response body to its end. Resolves 'end' when the camera finished it and 'aborted' when the signal fired
 * (the response is destroyed, closing the socket); rejects with AdapterError TIMEOUT on silence, CLOSED when the
 * connection breaks mid-body, or whatever onChunk threw.
 */
export function readBody(response: IncomingMessage, reading: BodyReading): Promise<'end' | 'aborted'> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const finish = (outcome: 'end' | 'aborted' | AdapterError): void => {
      if (settled) return;
      settled = true;
      clearTimeout(idleTimer);
      clearTimeout(totalTimer);
      reading.signal.removeEventListener('abort', onAbort);
      if (outcome !== 'end') response.destroy();
      if (outcome instanceof AdapterError) reject(outcome);
      else resolve(outcome);
    };
    const onAbort = (): void => finish('aborted');
    const stalled = (): void => finish(new AdapterError('TIMEOUT', `the camera sent nothing for ${reading.idleTimeoutMs} ms`));
    let idleTimer = setTimeout(stalled, reading.idleTimeoutMs);
    const totalTimer = reading.totalTimeoutMs === undefined
      ? undefined
      : setTimeout(() => finish(new AdapterError('TIMEOUT', `the image took longer than ${reading.totalTimeoutMs} ms`)), reading.totalTimeoutMs);
    if (reading.signal.aborted) return finish('aborted');
    reading.signal.addEventListener('abort', onAbort, { once: true });
    response.on('data', (chunk: Buffer) => {
      if (settled) return;
      clearTimeout(idleTimer);
      idleTimer = setTimeout(stalled, reading.idleTimeoutMs);
      try {
        reading.onChunk(chunk);
      } catch (error) {
        finish(toAdapterError(error));
      }
    });
    response.on('end', () => finish('end'));
    response.on('error', (error) => finish(closedMidBody(error)));
    response.on('close', () => finish(closedMidBody(undefined)));
  });
}

function closedMidBody(cause: unknown): AdapterError {
  return new AdapterError('CLOSED', 'the camera closed the connection in the middle of the body', { cause });
}
