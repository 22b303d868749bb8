import { spawn, type ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { FlvTagWalker } from '../../bench/loadgen/flv-tags.ts';

/**
 * The attacker, a separate process as a real one would be (it must not share the relay's event loop): opens COUNT
 * connections to PORT, spread round-robin over ADDRESSES, each sending half a request and then one header line
 * every LINE_MS (0: not a byte after connecting, which on a TLS port is a handshake never started). A connection the
 * relay closes is opened again RECONNECT_MS later (0: never). Prints "opened" once every connection has been tried, then
 * "held N" every second with how many are open; exits when its stdin closes.
 */
const ATTACKER = `
const net = require('node:net');
const [port, count, lineMs, reconnectMs] = process.argv.slice(1, 5).map(Number);
const addresses = process.argv[5].split(',');
let tried = 0, held = 0;
function open(i, first) {
  const socket = net.connect({ host: '127.0.0.1', port, localAddress: addresses[i % addresses.length] });
  let timer;
  let connected = false;
  socket.on('error', () => {});
  socket.once('connect', () => {
    connected = true;
    held++;
    if (lineMs > 0) {
      socket.write('GET /test.flv HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\n');
      timer = setInterval(() => socket.write('X-Idle: 1\\r\\n'), lineMs);
    }
  });
  socket.once('close', () => {
    clearInterval(timer);
    if (connected) held--;
    if (first && !connected && ++tried === count) console.log('opened');
    if (reconnectMs > 0) setTimeout(() => open(i, false), reconnectMs);
  });
  if (first) socket.once('connect', () => { if (++tried === count) console.log('opened'); });
}
for (let i = 0; i < count; i++) open(i, true);
setInterval(() => console.log('held ' + held), 1000);
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
`;

/** A running flood of idle connections. */
export interface IdleFlood {
  readonly process: ChildProcess;
  /** Resolves once every connection was tried once. */
  readonly opened: Promise<void>;
  /** Connections the attacker holds open, as it last reported. */
  held(): number;
  stop(): void;
}

/** `127.0.0.FIRST` .. `127.0.0.(FIRST+COUNT-1)`. */
export const loopbackAddresses = (first: number, count: number): string[] => Array.from({ length: count }, (_, i) => `127.0.0.${first + i}`);

/** Starts the attacker process against `port`. */
export function startIdleFlood(
  port: number,
  count: number,
  addresses: readonly string[],
  options: { lineEveryMs: number; reconnectMs?: number },
): IdleFlood {
  const args = [String(port), String(count), String(options.lineEveryMs), String(options.reconnectMs ?? 0), addresses.join(',')];
  const child = spawn(process.execPath, ['-e', ATTACKER, ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  let held = 0;
  let output = '';
  const opened = new Promise<void>((resolve) => {
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const lines = output.split('\n');
      output = lines.pop() ?? '';
      for (const line of lines) {
        if (line === 'opened') resolve();
        const match = /^held (\d+)$/.exec(line);
        if (match) held = Number(match[1]);
      }
    });
  });
  return { process: child, opened, held: () => held, stop: () => child.stdin.end() };
}

/** Milliseconds from the request to the first whole video picture (not the codec configuration) of an FLV stream. */
export function firstFrameMs(url: string, localAddress: string, timeoutMs = 10_000): Promise<number> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(url, { localAddress, agent: false }, (response) => {
      if (response.statusCode !== 200) {
        req.destroy();
        reject(new Error(`${url}: status ${response.statusCode}`));
        return;
      }
      const walker = new FlvTagWalker((tag) => {
        if (tag.type !== 9 || tag.config) return;
        req.destroy();
        resolve(performance.now() - started);
      });
      response.on('data', (chunk: Buffer) => walker.push(chunk, performance.now()));
      response.on('error', () => {});
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no frame from ${url} within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}
