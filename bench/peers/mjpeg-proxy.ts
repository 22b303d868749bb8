// mjpeg-proxy (npm) as its README uses it: one MjpegProxy per source, its proxyRequest as the HTTP handler.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';

/** The part of mjpeg-proxy's (untyped) API the bench uses. */
interface MjpegProxyModule {
  MjpegProxy: new (url: string) => { proxyRequest(request: IncomingMessage, response: ServerResponse): void };
}

const { values } = parseArgs({ options: { port: { type: 'string' }, source: { type: 'string' } } });
const { MjpegProxy } = createRequire(import.meta.url)('mjpeg-proxy') as MjpegProxyModule;
const proxy = new MjpegProxy(values.source!);
createServer((request, response) => proxy.proxyRequest(request, response)).listen(Number(values.port), '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
