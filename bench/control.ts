// Camera control: time from a viewer's command (HTTP request to the relay) to the request at the camera (Canon
// WebView HTTP simulator), from a command to the first frame of the relay's MJPEG and FLV outputs that shows the
// camera's new position (the simulator draws it into its picture at --fps), and the relay's CPU and memory with many
// viewers queued on Server-Sent Events (--viewers 0 leaves that out).
// Usage: node --import tsx bench/control.ts [--commands 300] [--picture-commands 30] [--fps 25] [--viewers 1000] [--window 10]
import { appendFile, mkdtemp, writeFile } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { CanonControlCamera } from '../test/helpers/canon-control-camera.ts';
import { canonMarker, PositionPicture } from '../test/helpers/position-picture.ts';
import { sleep } from './clock.ts';
import { measurePicture } from './control-picture.ts';
import { cpuSeconds, freePort, killAll, rssMiB, spawnTracked, stopTracked } from './procs.ts';

const relayBin = fileURLToPath(new URL('../relay/bin.mjs', import.meta.url));
const { values: args } = parseArgs({ options: { commands: { type: 'string', default: '300' }, 'picture-commands': { type: 'string', default: '30' }, fps: { type: 'string', default: '25' }, viewers: { type: 'string', default: '1000' }, window: { type: 'string', default: '10' } } });
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
      if (response.statusCode !== 200) reject(new Error(`event stream refused: ${response.statusCode}`));
      response.once('data', () => resolve(() => req.destroy()));
      response.on('error', () => {});
    });
    req.on('error', reject);
    req.end();
  });
}

const percentile = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

const camera = await CanonControlCamera.start();
const fps = Number(args.fps);
const picture = await PositionPicture.start(() => canonMarker(camera), fps);
const port = await freePort();
const dir = await mkdtemp(join(tmpdir(), 'relay-bench-control-'));
const config = join(dir, 'relay.conf');
const viewers = Number(args.viewers);
await writeFile(config, `HTTPPort ${port}\nMaxUnauthenticatedConnections ${viewers * 2 + 100}\nMaxUnauthenticatedPerIP ${viewers + 10}\n<Camera ptz>\n  Source ${picture.url}\n  OnDemand yes\n  Control canon-http\n  ControlAddress ${camera.url}\n  ControlCommandRate 100\n  ControlIdleSeconds 600\n  ControlMaxQueue ${viewers + 10}\n  ControlMaxPerAddress ${viewers + 10}\n</Camera>\n<Stream ptz.flv>\n  Feed ptz\n  VideoSize 160x120\n  VideoFrameRate ${fps}\n</Stream>\n<Stream ptz.mjpg>\n  Feed ptz\n  Format mpjpeg\n</Stream>\n`);
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
  // 2. Command to picture: the camera's own picture (the floor: drawing, JPEG and decoding), then the relay's outputs.
  const load = loadavg()[0]!;
  const pictureDelays = await measurePicture({
    camera, api, id: holder.json.id, post, commands: Number(args['picture-commands']), gapMs: 300, timeoutMs: 10_000,
    outputs: { camera: [picture.url, 'mpjpeg'], 'relay MJPEG': [`http://127.0.0.1:${port}/ptz.mjpg`, 'mpjpeg'], 'relay FLV': [`http://127.0.0.1:${port}/ptz.flv`, 'flv'] },
  });
  const loadAfter = loadavg()[0]!;
  // 3. Many viewers waiting, each with its own event stream (pushed every second with the holder's time left).
  const rssBefore = rssMiB(relay.pid!);
  const closers: Array<() => void> = [];
  for (let i = 0; i < viewers; i++) {
    const place = await post(`${api}/request`, {});
    closers.push(await openEvents(`${api}/events?id=${place.json.id}`));
  }
  const window = viewers > 0 ? Number(args.window) : 0;
  await sleep(window > 0 ? 1000 : 0);
  const cpuBefore = cpuSeconds(relay.pid!);
  await sleep(window * 1000);
  const cpuPercent = window > 0 ? ((cpuSeconds(relay.pid!) - cpuBefore) / window) * 100 : 0;
  const rssAfter = rssMiB(relay.pid!);
  for (const close of closers) close();
  closeHolder();
  const line = (value: number): string => value.toFixed(2);
  const pictureRows = [...pictureDelays.delays].map(([label, list]) => list.length
    ? `| command to picture, ${label} at ${fps} fps, ${list.length} goto commands (${pictureDelays.missed.get(label)} not seen within 10 s): p50 / p95 / max (ms) | ${line(percentile(list, 50))} / ${line(percentile(list, 95))} / ${line(list.at(-1)!)} |`
    : `| command to picture, ${label} at ${fps} fps | none of ${pictureDelays.missed.get(label)} seen |`).join('\n');
  const section = `
## ${new Date().toISOString()}: camera control (Canon WebView HTTP simulator on loopback)

Command: \`node --import tsx bench/control.ts --commands ${args.commands} --picture-commands ${args['picture-commands']} --fps ${fps} --viewers ${viewers} --window ${args.window}\`
Machine: ${cpus().length} cores (${cpus()[0]?.model.trim()}), node ${process.version}; the relay is a child process, the simulator and clients share the bench's process. Load average (1 min) before / after the picture commands: ${line(load)} / ${line(loadAfter)}.

| measure | value |
|---|---|
| command to camera, ${delays.length} goto commands: p50 / p95 / max (ms) | ${line(percentile(delays, 50))} / ${line(percentile(delays, 95))} / ${line(delays.at(-1)!)} |
${pictureRows}
${viewers === 0 ? '' : `| ${viewers} viewers queued with event streams: relay CPU (% of a core, over ${window} s) | ${line(cpuPercent)} |
| relay RSS before / after queuing them (MiB) | ${line(rssBefore)} / ${line(rssAfter)} |
`}`;
  process.stdout.write(section);
  await appendFile(fileURLToPath(new URL('./RESULTS.md', import.meta.url)), section);
} finally {
  await stopTracked(relay);
  await camera.close();
  await picture.close();
  agent.destroy();
  killAll();
}
