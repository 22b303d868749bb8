import { ProtocolError } from '../media/errors.ts';

/** Stable codes for adapter failures; the Feed shows them and the HTTP edge never leaks their details to viewers. */
export type AdapterErrorCode =
  | 'CONNECT' // refused, unreachable, DNS
  | 'TIMEOUT' // connect, read or reply timeout
  | 'CLOSED' // upstream ended the connection
  | 'PROTOCOL' // the upstream spoke something we cannot parse, or broke a limit
  | 'AUTH' // credentials refused
  | 'UPSTREAM_STATUS' // the upstream answered with an error status (HTTP 404, RTSP 454, Livescope 503, ...)
  | 'PROCESS'; // a helper process (the synthetic camera's ffmpeg) failed

/** A failure of a camera adapter, with a stable code and a message safe to show on /stat.html (no credentials). */
export class AdapterError extends Error {
  override readonly name = 'AdapterError';
  constructor(
    readonly code: AdapterErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The adapter-level form of any failure: a wire-format ProtocolError keeps its message, anything else gets `prefix`. */
export function asAdapterError(error: unknown, prefix: string): AdapterError {
  if (error instanceof AdapterError) return error;
  if (error instanceof ProtocolError) return new AdapterError('PROTOCOL', error.message, { cause: error });
  return new AdapterError('PROTOCOL', `${prefix}${(error as Error).message ?? String(error)}`, { cause: error });
}
