import { createServer, type AddressInfo } from 'node:net';

/**
 * A port on 127.0.0.1 that nothing listens on now (bound once, then released): for peers that cannot listen on
 * port 0 themselves (ffmpeg -listen), or for "connection refused".
 */
export async function unusedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
