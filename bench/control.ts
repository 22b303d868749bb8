// Camera control: time from a viewer's command (HTTP request to the relay) to the request at the camera (Canon
// WebView HTTP simulator), and the relay's CPU and memory with many viewers queued on Server-Sent Events.
// Usage: node --import tsx bench/control.ts [--commands 300] [--viewers 1000] [--window 10]
import { appendFile, mkdtemp, writeFile } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { CanonControlCamera } from '../test/helpers/canon-control-camera.ts';
import { sleep } from './clock.ts';
import { cpuSeconds, freePort, killAll, rssMiB, spawnTracked, stopTracked } from './procs.ts';

const relayBin = fileURLToPath(new URL('../relay/bin.mjs', import.meta.url));
const { values: args } = parseArgs({ options: { commands: { type: 'string', default: '300' }, viewers: { type: 'string', default: '1000' }, window: { type: 'string', default: '10' } } });
const agent = new Agent({ keepAlive: true, maxSockets: 8 });

function post(url: string, body: unknown): Promise<{ status: number; json: Record<string, any> }> {
  const text = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) } }, (response) => {
      let raw = '';
      response.setEncoding('utf8').on('data', (chunk: string) => (raw += chunk)).on('end', () => resolve({ status: response.statusCode ?? 0, json: JSON.parse(raw || '{}') }));
    });
    req.on('error', reject);
    req.end(text);
  });
}

/** Opens an event stream and resolves at its first event; the returned function closes it. */
function openEvents(url: string): Promise<() => void> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false }, (response) => {
      response.once('data', () => resolve(() => req.destroy()));
      response.on('error', () => {});
    });
    req.on('error', reject);
    req.end();
  });
}

const percentile = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

const camera = await CanonControlCamera.start();
const port = await freePort();
const dir = await mkdtemp(join(tmpdir(), 'relay-bench-control-'));
const config = join(dir, 'relay.conf');
const viewers = Number(args.viewers);
await writeFile(config, `HTTPPort ${port}\nMaxUnauthenticatedConnections ${viewers * 2 + 100}\n<Camera ptz>\n  Source testsrc://?size=160x120&rate=5\n  OnDemand yes\n  Control canon-http\n  ControlAddress ${camera.url}\n  ControlCommandRate 100\n  ControlIdleSeconds 600\n  ControlMaxQueue ${viewers + 10}\n  ControlMaxPerAddress ${viewers + 10}\n</Camera>\n<Stream ptz.flv>\n  Feed ptz\n</Stream>\n`);
const relay = spawnTracked(process.execPath, [relayBin, '-c', config]);
const api = `http://127.0.0.1:${port}/api/control/ptz`;
try {
  for (let tries = 0; !(await fetch(api).then((r) => r.ok, () => false)); tries++) {
    if (tries > 100) throw new Error('the relay did not start');
    await sleep(100);
  }
  // 1. Command to camera: one holder, commands one after another (each waits for its answer), 20 ms apart.
  const holder = await post(`${api}/request`, {});
  const closeHolder = await openEvents(`${api}/events?id=${holder.json.id}`);
  await post(`${api}/goto`, { id: holder.json.id, pan: 0, tilt: 0, zoom: 30 }); // session and control taken once
  const delays: number[] = [];
  for (let i = 0; i < Number(args.commands); i++) {
    const before = camera.commands('OperateCamera').length;
    const sent = performance.timeOrigin + performance.now();
    const reply = await post(`${api}/goto`, { id: holder.json.id, pan: (i % 100) - 50, tilt: 0, zoom: 30 });
    if (reply.status !== 200) throw new Error(`command ${i}: ${reply.status} ${JSON.stringify(reply.json)}`);
    const received = camera.commands('OperateCamera')[before];
    if (received) delays.push(received.at - sent);
    await sleep(20);
  }
  delays.sort((a, b) => a - b);
  // 2. Many viewers waiting, each with its own event stream (pushed every second with the holder's time left).
  const rssBefore = rssMiB(relay.pid!);
  const closers: Array<() => void> = [];
  for (let i = 0; i < viewers; i++) {
    const place = await post(`${api}/request`, {});
    closers.push(await openEvents(`${api}/events?id=${place.json.id}`));
  }
  await sleep(1000);
  const cpuBefore = cpuSeconds(relay.pid!);
  await sleep(Number(args.window) * 1000);
  const cpuPercent = ((cpuSeconds(relay.pid!) - cpuBefore) / Number(args.window)) * 100;
  const rssAfter = rssMiB(relay.pid!);
  for (const close of closers) close();
  closeHolder();
  const line = (value: number): string => value.toFixed(2);
  const section = `
## ${new Date().toISOString()}: camera control (Canon WebView HTTP simulator on loopback)

Command: \`node --import tsx bench/control.ts --commands ${args.commands} --viewers ${viewers} --window ${args.window}\`
Machine: ${cpus().length} cores (${cpus()[0]?.model.trim()}), node ${process.version}; the relay is a child process, the simulator and clients share the bench's process.

| measure | value |
|---|---|
| command to camera, ${delays.length} goto commands: p50 / p95 / max (ms) | ${line(percentile(delays, 50))} / ${line(percentile(delays, 95))} / ${line(delays.at(-1)!)} |
| ${viewers} viewers queued with event streams: relay CPU (% of a core, over ${args.window} s) | ${line(cpuPercent)} |
| relay RSS before / after queuing them (MiB) | ${line(rssBefore)} / ${line(rssAfter)} |
`;
  process.stdout.write(section);
  await appendFile(fileURLToPath(new URL('./RESULTS.md', import.meta.url)), section);
} finally {
  await stopTracked(relay);
  await camera.close();
  agent.destroy();
  killAll();
}
