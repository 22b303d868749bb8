import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';

/** One response, read up to `maxBytes` (live streams never end: the connection is closed once that much arrived). */
export interface Answer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  readonly ms: number;
}

/**
 * A GET with full control over what a client may send: any headers (Host, Authorization, X-Forwarded-For) and the
 * local address it comes from (127.0.0.0/8 gives many distinct clients on one machine). `readMs` ends the read after
 * that long even when less than `maxBytes` came.
 */
export function get(
  url: string,
  options: { headers?: Record<string, string>; localAddress?: string; maxBytes?: number; timeoutMs?: number; readMs?: number } = {},
): Promise<Answer> {
  const started = Date.now();
  const maxBytes = options.maxBytes ?? 1024 * 1024;
  return new Promise((resolve, reject) => {
    const request = httpRequest(url, { headers: options.headers, localAddress: options.localAddress, agent: false }, (response) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const done = (): void => {
        resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks), ms: Date.now() - started });
        request.destroy();
      };
      // A live stream of a camera that sends nothing: what arrived within readMs is the answer.
      if (options.readMs) setTimeout(done, options.readMs).unref();
      response.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        size += chunk.length;
        if (size >= maxBytes) done();
      });
      response.on('end', done);
      response.on('error', done);
    });
    request.setTimeout(options.timeoutMs ?? 20_000, () => request.destroy(new Error(`no answer from ${url}`)));
    request.on('error', reject);
    request.end();
  });
}

/** `Basic base64(user:password)`. */
export const basic = (user: string, password: string): string => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
