// HLS bench: what packaging costs in the relay, and what 1,000 HLS clients without a cache cost the relay.
// Usage: node --import tsx bench/hls.ts [--clients 1000] [--seconds 20]
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { HlsPackager, type HlsContainer } from '../relay/hls/packager.ts';
import type { H264Unit } from '../media/types.ts';
import { startTestEncodedSource } from '../test/helpers/encoded-source.ts';
import { percentile } from './histogram.ts';
import { cpuSeconds, freePort, spawnTracked, stopTracked } from './procs.ts';

const { values } = parseArgs({ options: { clients: { type: 'string', default: '1000' }, seconds: { type: 'string', default: '20' } } });
const clients = Number(values.clients);
const seconds = Number(values.seconds);

/** Ten seconds of a real 640x480 25 fps x264 stream, captured once. */
async function captureFrames(): Promise<H264Unit[]> {
  const source = startTestEncodedSource({ size: '640x480', rate: 25, gop: 50 });
  const frames: H264Unit[] = [];
  source.hub.subscribe((frame) => frames.push(frame));
  await new Promise((resolve) => setTimeout(resolve, 10_500));
  source.stop();
  return frames.slice(0, 250);
}

/** CPU milliseconds the packager spends per second of video, over `minutes` of video fed as fast as it goes. */
function packagerCost(frames: H264Unit[], container: HlsContainer, minutes: number): { cpuMsPerVideoSecond: number; mbPerVideoSecond: number } {
  const packager = new HlsPackager({ container, segmentSeconds: 2, listSize: 6, partSeconds: 0.3 }, 'bench/');
  const span = frames.at(-1)!.dts - frames[0]!.dts + 40;
  const loops = Math.ceil((minutes * 60_000) / span);
  let bytes = 0;
  let counted = -1;
  packager.onChange(() => {
    for (const segment of packager.segments) {
      if (segment.sequence <= counted) continue;
      bytes += segment.data!.length;
      counted = segment.sequence;
    }
  });
  const before = process.cpuUsage();
  for (let loop = 0; loop < loops; loop++) {
    for (const frame of frames) packager.push({ ...frame, dts: frame.dts + loop * span, pts: frame.pts + loop * span });
  }
  const used = process.cpuUsage(before);
  const videoSeconds = (loops * span) / 1000;
  return { cpuMsPerVideoSecond: (used.user + used.system) / 1000 / videoSeconds, mbPerVideoSecond: bytes / 1e6 / videoSeconds };
}

/** Polls like a player: the playlist every second, each new segment once. Returns request latencies. */
async function clientLoad(port: number, path: string): Promise<{ playlist: number[]; segment: number[]; errors: number; bytes: number }> {
  const agent = new Agent({ keepAlive: true, maxSockets: clients });
  const out = { playlist: [] as number[], segment: [] as number[], errors: 0, bytes: 0 };
  const get = (url: string): Promise<{ status: number; body: string; length: number; ms: number }> =>
    new Promise((resolve) => {
      const started = performance.now();
      const req = request({ host: '127.0.0.1', port, path: url, agent, headers: { 'User-Agent': `bench-${Math.random()}` } }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          const body = Buffer.concat(chunks);
          resolve({ status: response.statusCode ?? 0, body: url.endsWith('.m3u8') ? body.toString() : '', length: body.length, ms: performance.now() - started });
        });
      });
      req.on('error', () => resolve({ status: 0, body: '', length: 0, ms: performance.now() - started }));
      req.end();
    });
  const deadline = Date.now() + seconds * 1000;
  await Promise.all(Array.from({ length: clients }, async (_, i) => {
    await new Promise((resolve) => setTimeout(resolve, (i * 1000) / clients));
    const fetched = new Set<string>();
    while (Date.now() < deadline) {
      const playlist = await get(path);
      if (playlist.status !== 200) out.errors++;
      else out.playlist.push(playlist.ms);
      for (const uri of playlist.body.split('\n').filter((line) => line.endsWith('.ts')).slice(-2)) {
        if (fetched.has(uri)) continue;
        fetched.add(uri);
        const segment = await get(`/${uri}`);
        if (segment.status !== 200) out.errors++;
        else {
          out.segment.push(segment.ms);
          out.bytes += segment.length;
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }));
  agent.destroy();
  return out;
}

const frames = await captureFrames();
console.log(`captured ${frames.length} frames (${(frames.reduce((sum, f) => sum + f.data.reduce((s, n) => s + n.length, 0), 0) / 1e6).toFixed(2)} MB)`);
for (const container of ['ts', 'fmp4'] as const) {
  const cost = packagerCost(frames, container, 10);
  console.log(`packager ${container}: ${cost.cpuMsPerVideoSecond.toFixed(3)} ms CPU per second of 640x480 25 fps video (${cost.mbPerVideoSecond.toFixed(3)} MB/s of segments)`);
}

const dir = await mkdtemp(join(tmpdir(), 'bench-hls-'));
const port = await freePort();
const conf = join(dir, 'relay.conf');
await writeFile(conf, `HTTPPort ${port}\nMaxClients 0\n<Camera cam>\n Source testsrc://?size=640x480&rate=25\n</Camera>\n<Stream cam.m3u8>\n Feed cam\n VideoBitRate 1000\n HLSSegmentTime 2\n</Stream>\n`);
const relay = spawnTracked(process.execPath, ['relay/bin.mjs', '-c', conf], { stdio: ['ignore', 'ignore', 'ignore'] });
try {
  for (let i = 0; i < 100; i++) {
    const ok = await fetch(`http://127.0.0.1:${port}/cam.m3u8`).then((r) => r.status === 200, () => false);
    if (ok) break;
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
  const cpuBefore = cpuSeconds(relay.pid!);
  const started = Date.now();
  const load = await clientLoad(port, '/cam.m3u8');
  const elapsed = (Date.now() - started) / 1000;
  const cpu = ((cpuSeconds(relay.pid!) - cpuBefore) / elapsed) * 100;
  const requests = load.playlist.length + load.segment.length;
  console.log(`${clients} HLS clients, ${elapsed.toFixed(0)} s, no cache: ${(requests / elapsed).toFixed(0)} requests/s, ` +
    `${((load.bytes * 8) / elapsed / 1e6).toFixed(1)} Mbit/s, relay node process ${cpu.toFixed(0)}% of a core (ffmpeg apart), ` +
    `playlist p50/p99 ${percentile(load.playlist, 0.5).toFixed(1)}/${percentile(load.playlist, 0.99).toFixed(1)} ms, ` +
    `segment p50/p99 ${percentile(load.segment, 0.5).toFixed(1)}/${percentile(load.segment, 0.99).toFixed(1)} ms, errors ${load.errors}`);
} finally {
  await stopTracked(relay);
  await rm(dir, { recursive: true, force: true });
}
