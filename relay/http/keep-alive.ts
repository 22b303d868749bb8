import type { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** An HTTP or HTTPS server, as far as this needs one. */
type HttpServer = EventEmitter & { keepAliveTimeout: number };

/** A response that handed more than this to its socket may still sit in the kernel's buffers when Node calls it finished. */
export const LARGE_RESPONSE_BYTES = 32 * 1024;

/**
 * How long an idle connection is kept after a large response. Node starts its keep-alive timer when the last bytes reach
 * the kernel, not the reader, and then closes the socket: a client that had not taken the whole body yet saw the close
 * in the middle of reading a keep-alive response and failed ("other side closed"). A reader as slow as 64 KiB/s takes
 * the few MiB a socket's buffers hold within this time.
 */
export const KEEP_ALIVE_AFTER_LARGE_RESPONSE_MS = 65_000;

/**
 * Keeps a connection open for KEEP_ALIVE_AFTER_LARGE_RESPONSE_MS (not the server's keepAliveTimeout) once a response
 * larger than LARGE_RESPONSE_BYTES finishes, so every large response (files, recordings, exports, segments) reaches a
 * slow reader whole while small ones keep the short keep-alive. A new request on the connection clears the timer as usual.
 */
export function keepAliveAfterLargeResponses(server: HttpServer): void {
  // First of the request listeners: the app's own may write the whole body before a later listener would count.
  server.prependListener('request', (req: IncomingMessage, res: ServerResponse) => {
    const socket = req.socket;
    const before = socket.bytesWritten;
    // Registered after Node's own 'finish' listener, which sets the keep-alive timer: this one replaces it.
    res.once('finish', () => {
      // A closing connection, or one already sending the next pipelined response, keeps Node's own handling.
      if (!res.shouldKeepAlive || socket.destroyed || !server.keepAliveTimeout || (socket as { _httpMessage?: unknown })._httpMessage) return;
      if (socket.bytesWritten - before <= LARGE_RESPONSE_BYTES) return;
      socket.setTimeout(Math.max(server.keepAliveTimeout, KEEP_ALIVE_AFTER_LARGE_RESPONSE_MS));
    });
  });
}
