import type { ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { basename, dirname } from 'node:path';
import type { Context } from 'koa';
import type send from 'send';
import { VodError } from '../../media/file/errors.ts';
import type { MediaFile } from '../../media/file/path.ts';

/** How long browsers and caches may keep a file before revalidating it (ETag and Last-Modified make that cheap). */
const FILE_MAX_AGE = '1h';
const READ_CHUNK_BYTES = 32 * 1024;
const require = createRequire(import.meta.url);

/** The `send` file server, loaded with the first file or segment served: a relay that serves none never loads it. */
export function fileServer(): typeof send {
  return require('send') as typeof send;
}

/**
 * Serves a checked media file with `send` (the file server Express uses): streamed from disk in chunks, Range (206,
 * 416), Accept-Ranges, ETag, Last-Modified, If-None-Match/If-Modified-Since (304), If-Range, If-Match (412) and HEAD.
 * Resolves when the response has ended or the viewer went away.
 */
export function sendMediaFile(ctx: Context, file: MediaFile): Promise<void> {
  ctx.respond = false;
  const response = ctx.res;
  // Koa starts every response as 404; send only sets the statuses that differ from 200, and counts 304s on a 2xx.
  response.statusCode = 200;
  return new Promise((resolve) => {
    response.once('close', resolve);
    response.once('finish', resolve);
    // The file was resolved and checked already: send only opens that one real path.
    fileServer()(ctx.req, `/${encodeURIComponent(basename(file.path))}`, {
      root: dirname(file.path),
      dotfiles: 'allow',
      maxAge: FILE_MAX_AGE,
      acceptRanges: true,
      etag: true,
      lastModified: true,
      index: false,
      // Read chunk per viewer: with a hundred downloads at once, 32 KiB chunks (half the default) keep the memory in flight small.
      highWaterMark: READ_CHUNK_BYTES,
    } as send.SendOptions)
      .on('headers', (res: ServerResponse) => {
        res.setHeader('Access-Control-Allow-Origin', '*');
        res.setHeader('X-Content-Type-Options', 'nosniff');
      })
      .on('error', (error: { status?: number; headers?: Record<string, string> }) => {
        const vodError =
          error.status === 416
            ? new VodError('RANGE_NOT_SATISFIABLE', 'The requested range is outside the file')
            : error.status === 412
              ? new VodError('BAD_REQUEST', 'Precondition failed')
              : error.status === 404
                ? new VodError('FILE_NOT_FOUND', 'File not found')
                : new VodError('INTERNAL', 'The file could not be read');
        const status = error.status === 412 ? 412 : vodError.status;
        writeJsonError(response, vodError, status, error.headers);
      })
      .pipe(response);
  });
}

/** Writes a VOD error as JSON straight to the response (for handlers that took the response over from Koa). */
export function writeJsonError(response: ServerResponse, error: VodError, status = error.status, headers: Record<string, string> = {}): void {
  if (response.headersSent) {
    response.destroy();
    return;
  }
  const body = JSON.stringify(error.toJSON());
  for (const name of response.getHeaderNames()) response.removeHeader(name);
  response.writeHead(status, { ...headers, 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
  response.end(body);
}
