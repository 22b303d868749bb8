import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One POST a receiver got. */
export interface ReceivedHook {
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  readonly at: number;
}

/** What the receiver does with each request: answer with a status, or hold it open without answering. */
export type ReceiverMode = { status: number } | 'hang';

/** A webhook receiver on 127.0.0.1 and a free port, keeping every request; `mode` may change between requests. */
export async function startWebhookReceiver(mode: ReceiverMode = { status: 204 }): Promise<{
  url: string;
  hooks: ReceivedHook[];
  setMode(next: ReceiverMode): void;
  close(): Promise<void>;
}> {
  const hooks: ReceivedHook[] = [];
  const held = new Set<ServerResponse>();
  let current = mode;
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      hooks.push({ headers: request.headers, body: Buffer.concat(chunks).toString(), at: Date.now() });
      if (current === 'hang') held.add(response);
      else response.writeHead(current.status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    hooks,
    setMode: (next) => (current = next),
    close: () => new Promise<void>((resolve) => {
      for (const response of held) response.destroy();
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
