import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type Koa from 'koa';
import type { SecurityConfig } from '../../conf/security.ts';
import type { Logger } from '../../lib/log.ts';
import { limitConnections, type ConnectionLimits } from './connection-limits.ts';
import { keepAliveAfterLargeResponses } from './keep-alive.ts';

/** The HTTPS listener: same app as the plain port, its certificate reloadable in place. */
export interface HttpsListener {
  readonly server: Server;
  readonly port: number;
  readonly limits: ConnectionLimits;
  /** Re-reads SSLCertificateFile and SSLCertificateKeyFile; new connections use them, open ones are untouched. */
  reloadCertificates(security: SecurityConfig): Promise<void>;
  close(): Promise<void>;
}

async function readPair(security: SecurityConfig): Promise<{ cert: Buffer; key: Buffer }> {
  const [cert, key] = await Promise.all([readFile(security.certificateFile!), readFile(security.keyFile!)]);
  return { cert, key };
}

/** The certificate or key cannot be loaded at startup; the message names the directive, never the key's content. */
export class TlsSetupError extends Error {
  override readonly name = 'TlsSetupError';
}

/** Starts HTTPS on HTTPSPort when it is set; undefined otherwise. */
export async function listenHttps(app: Koa, security: () => SecurityConfig, host: string, log: Logger): Promise<HttpsListener | undefined> {
  const initial = security();
  if (initial.httpsPort === 0) return undefined;
  let pair;
  try {
    pair = await readPair(initial);
  } catch (error) {
    throw new TlsSetupError(`SSLCertificateFile/SSLCertificateKeyFile cannot be read: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  let server: Server;
  try {
    const options = { ...pair, maxHeaderSize: 16 * 1024, connectionsCheckingInterval: 1_000, handshakeTimeout: Math.min(initial.requestHeaderTimeoutMs, 10_000) };
    server = createServer(options, app.callback());
  } catch (error) {
    // OpenSSL's message says what is wrong (e.g. "key values mismatch") without quoting the key.
    throw new TlsSetupError(`SSLCertificateFile/SSLCertificateKeyFile are not a usable pair: ${(error as Error).message}`);
  }
  server.headersTimeout = initial.requestHeaderTimeoutMs;
  server.requestTimeout = 0; // live responses last as long as the viewer watches
  server.maxHeadersCount = 100;
  server.keepAliveTimeout = 5_000;
  keepAliveAfterLargeResponses(server);
  // Failed handshakes and malformed requests are the client's problem: close, no log line, no stack.
  server.on('tlsClientError', (_error, socket) => socket.destroy());
  server.on('clientError', (_error, socket) => socket.destroy());
  // Counted at the TCP accept, before the handshake: a handshake never finished must hold a slot like any other connection.
  const limits = limitConnections(server, security);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(initial.httpsPort, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  log.info(`serving on https://${host}:${port}/`);
  return {
    server,
    port,
    limits,
    async reloadCertificates(next) {
      try {
        server.setSecureContext(await readPair(next));
        log.info('TLS certificate reloaded');
      } catch (error) {
        // A half-written or unreadable pair must not take HTTPS down: the previous certificate stays.
        log.error(`TLS certificate not reloaded, keeping the previous one: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
      }
    },
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}
