// WebRTC (WHEP) beside HTTP-FLV on one relay process: setup time (POST to the first whole keyframe at a viewer), and
// the relay's CPU per delivered MB for N concurrent viewers of each. Run by hand: node --import tsx bench/webrtc.ts [N]
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { configFile, runRelay } from '../test/helpers/relay-process.ts';
import { WhepClient } from '../test/helpers/whep-client.ts';

const viewers = Number(process.argv[2] ?? 20);
const WINDOW_MS = 10_000;
const CLOCK_TICKS = 100;

/** The relay's user+system CPU seconds so far, from /proc. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

function rssMb(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
}

const percentile = (values: number[], p: number): number => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(values.length * p))]!;

const relay = await runRelay(await configFile(`MaxClients 0
<Camera cam>
  Source testsrc://?size=640x480&rate=25
</Camera>
<Stream cam.flv>
  Feed cam
  VideoFrameRate 25
  VideoSize 640x480
  VideoBitRate 1000
</Stream>
`));
const pid = relay.child.pid!;
const base = `http://127.0.0.1:${relay.port()}`;
await new Promise((resolve) => setTimeout(resolve, 4000));

// Setup time: one viewer at a time.
const setups: number[] = [];
let failedSetups = 0;
for (let i = 0; i < 20; i++) {
  const client = await WhepClient.connect(`${base}/cam.flv/whep`);
  try {
    await client.waitForUnits(1, 10_000);
    setups.push(client.firstKeyframeMs!);
  } catch {
    failedSetups++;
  }
  await client.close();
}

// WebRTC: N viewers at once over the window.
const clients = await Promise.all(Array.from({ length: viewers }, () => WhepClient.connect(`${base}/cam.flv/whep`)));
const unserved = (await Promise.allSettled(clients.map((client) => client.waitForUnits(1, 20_000)))).filter((result) => result.status === 'rejected').length;
const rssBefore = rssMb(pid);
// An access unit is a list of NAL units: its bytes are theirs together.
const unitBytes = (unit: { data: readonly Buffer[] }): number => unit.data.reduce((sum, nal) => sum + nal.length, 0);
const bytesAt = (): number => clients.reduce((sum, client) => sum + client.units.reduce((s, unit) => s + unitBytes(unit), 0), 0);
let cpu0 = cpuSeconds(pid);
let bytes0 = bytesAt();
await new Promise((resolve) => setTimeout(resolve, WINDOW_MS));
const webrtcCpu = cpuSeconds(pid) - cpu0;
const webrtcMb = (bytesAt() - bytes0) / 1e6;
const rssWith = rssMb(pid);
await Promise.all(clients.map((client) => client.close()));

// HTTP-FLV: N viewers at once over the same window.
let flvBytes = 0;
let flvRefused = 0;
const requests = Array.from({ length: viewers }, () => {
  const viewer = request(`${base}/cam.flv`, { agent: false }, (response) => response.on('data', (chunk: Buffer) => (flvBytes += chunk.length)));
  viewer.on('error', () => flvRefused++);
  return viewer.end();
});
await new Promise((resolve) => setTimeout(resolve, 3000));
cpu0 = cpuSeconds(pid);
bytes0 = flvBytes;
await new Promise((resolve) => setTimeout(resolve, WINDOW_MS));
const flvCpu = cpuSeconds(pid) - cpu0;
const flvMb = (flvBytes - bytes0) / 1e6;
for (const r of requests) r.destroy();

console.log(`setup (POST to first whole keyframe), 20 sessions one at a time: p50 ${percentile(setups, 0.5).toFixed(0)} ms, p95 ${percentile(setups, 0.95).toFixed(0)} ms, ${failedSetups} got no video in 10 s`);
console.log(`${unserved} of ${viewers} concurrent WebRTC viewers got no video in 20 s`);
console.log(`${viewers} WebRTC viewers: ${webrtcMb.toFixed(1)} MB in ${WINDOW_MS / 1000} s, relay CPU ${webrtcCpu.toFixed(2)} s = ${(webrtcCpu * 1000 / webrtcMb).toFixed(1)} ms per MB; RSS ${rssBefore.toFixed(0)} MB with them (${((rssWith - rssBefore)).toFixed(0)} MB change over the window)`);
console.log(`${viewers} HTTP-FLV viewers (${flvRefused} cut off or refused): ${flvMb.toFixed(1)} MB in ${WINDOW_MS / 1000} s, relay CPU ${flvCpu.toFixed(2)} s = ${(flvCpu * 1000 / flvMb).toFixed(1)} ms per MB`);
relay.child.kill('SIGTERM');
await relay.exited;
process.exit(0);
