// Relay memory while 100 viewers watch one vod-live://s3 stream and 20 clients download different objects with Range,
// against the relay idle; and the bytes read from the bucket against the bytes the viewers needed.
// Usage: node --import tsx bench/s3-memory.ts [SECONDS=30] [VIEWERS=100] [DOWNLOADS=20]
// (RELAY_MEMORY_GC=1: a full garbage collection in the relay before each of its memory samples, for what it holds.)
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { configFile, runRelay } from '../test/helpers/relay-process.ts';
import { TestS3Server } from '../test/helpers/s3-server.ts';

const seconds = Number(process.argv[2] ?? 30);
const VIEWERS = Number(process.argv[3] ?? 100);
const DOWNLOADS = Number(process.argv[4] ?? 20);
/** Each download reads this much of its object, from 1 MiB in, at DOWNLOAD_RATE: slow readers the relay must not buffer for. */
const DOWNLOAD_BYTES = 6 * 2 ** 20;
const DOWNLOAD_RATE = 400 * 1024;
const dir = await mkdtemp(join(tmpdir(), 'bench-s3-memory-'));
const file = join(dir, 'large.mp4');
// 60 s of 1280x720 at 25 fps, 8 Mbit/s, keyframe every 2 s, moov first: about 60 MiB.
await promisify(execFile)('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=1280x720:rate=25:duration=60',
  '-c:v', 'libx264', '-preset', 'ultrafast', '-b:v', '8M', '-maxrate', '8M', '-bufsize', '4M', '-g', '50', '-bf', '0', '-pix_fmt', 'yuv420p', '-movflags', '+faststart', file]);
const movie = await readFile(file);
const s3 = await TestS3Server.start('bench');
s3.addCredentials('AKIABENCH', 'bench-secret');
await s3.put('large.mp4', movie);
for (let i = 0; i < DOWNLOADS; i++) await s3.put(`objects/${i}.mp4`, movie.subarray(0, 1024 * 1024 + DOWNLOAD_BYTES + 4096));
// The relay writes its memory by kind (heap, external, array buffers, young generation) to this file, 4 times a second.
const samplesFile = join(dir, 'memory.jsonl');
process.env.RELAY_MEMORY_SAMPLES = samplesFile;
// RELAY_NODE_OPTIONS: options for the relay's node alone (e.g. --max-semi-space-size=4), not for this process.
process.env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ''} ${process.env.RELAY_NODE_OPTIONS ?? ''} --import ${new URL('./s3-memory-sampler.mjs', import.meta.url).pathname}`.trim();
// All clients come from 127.0.0.1: the per-address cap on connections without credentials (100) is lifted.
const relay = await runRelay(await configFile(`MaxUnauthenticatedPerIP 0
<Storage bench>
  Endpoint ${s3.endpoint}
  Bucket bench
  AccessKey AKIABENCH
  SecretKey bench-secret
</Storage>
<Camera film>
  Source vod-live://s3/bench/large.mp4
  Loop yes
</Camera>
<Stream film.flv>
  Feed film
  VideoCodec copy
</Stream>
`));
const base = `http://127.0.0.1:${relay.port()}`;

interface MemorySample { rss: number; heapTotal: number; heapUsed: number; external: number; arrayBuffers: number; newSpace: number }
/** The relay's last memory sample by kind. */
async function breakdown(): Promise<MemorySample | undefined> {
  const lines = (await readFile(samplesFile, 'utf8').catch(() => '')).trim().split('\n');
  return lines.at(-1) ? (JSON.parse(lines.at(-1)!) as MemorySample) : undefined;
}
const inMiB = (sample: MemorySample | undefined): string => (sample
  ? `rss ${(sample.rss / 2 ** 20).toFixed(0)}, heapUsed ${(sample.heapUsed / 2 ** 20).toFixed(0)} of heapTotal ${(sample.heapTotal / 2 ** 20).toFixed(0)} (young generation ${(sample.newSpace / 2 ** 20).toFixed(0)}), external ${(sample.external / 2 ** 20).toFixed(0)} (arrayBuffers ${(sample.arrayBuffers / 2 ** 20).toFixed(0)}) MiB`
  : 'no sample');

/** The relay process's resident memory, MiB (ffmpeg children not counted: they are their own processes). */
async function rssMiB(): Promise<number> {
  const status = await readFile(`/proc/${relay.child.pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) / 1024;
}

await sleep(3000);
const idle: number[] = [];
for (let i = 0; i < 5; i++) {
  idle.push(await rssMiB());
  await sleep(400);
}
const idleMiB = Math.max(...idle);
const idleBreakdown = await breakdown();
const stop = new AbortController();
let viewerBytes = 0;
let viewersUp = 0;
const viewers = Array.from({ length: VIEWERS }, async () => {
  try {
    const response = await fetch(`${base}/film.flv`, { signal: stop.signal });
    viewersUp++;
    for await (const chunk of response.body! as unknown as AsyncIterable<Uint8Array>) viewerBytes += chunk.length;
  } catch {
    // Aborted at the end of the run.
  }
});
const playStart = Date.now();
const downloadErrors: string[] = [];
const downloads = Array.from({ length: DOWNLOADS }, async (_, i) => {
  const start = 1024 * 1024;
  const response = await fetch(`${base}/vod/s3/bench/objects/${i}.mp4`, { headers: { Range: `bytes=${start}-${start + DOWNLOAD_BYTES - 1}` }, signal: stop.signal });
  if (response.status !== 206) throw new Error(`download ${i}: ${response.status}`);
  let got = 0;
  const began = Date.now();
  try {
    for await (const chunk of response.body! as unknown as AsyncIterable<Uint8Array>) {
      got += chunk.length;
      const ahead = got / DOWNLOAD_RATE * 1000 - (Date.now() - began);
      if (ahead > 0) await sleep(ahead);
    }
  } catch (error) {
    downloadErrors.push(`download ${i} broke after ${got} bytes, ${Date.now() - began} ms: ${(error as Error).message} ${((error as Error).cause as Error | undefined)?.message ?? ''}`);
  }
  return got;
});
const samples: number[] = [idleMiB];
let peakBreakdown = idleBreakdown;
const until = Date.now() + seconds * 1000;
while (Date.now() < until) {
  const rss = await rssMiB();
  if (rss > Math.max(...samples)) peakBreakdown = await breakdown();
  samples.push(rss);
  await sleep(1000);
}
const endBreakdown = await breakdown();
const downloaded = (await Promise.allSettled(downloads)).map((r) => (r.status === 'fulfilled' ? r.value : 0));
const playedSeconds = (Date.now() - playStart) / 1000;
const loaded = { peak: Math.max(...samples), last: samples.at(-1)! };
stop.abort();
await Promise.allSettled(viewers);
const streamBytes = s3.bytesServed('large.mp4');
const objectBytes = Array.from({ length: DOWNLOADS }, (_, i) => s3.bytesServed(`objects/${i}.mp4`)).reduce((a, b) => a + b, 0);
const mib = (bytes: number): string => (bytes / 2 ** 20).toFixed(1);
console.log(`relay RSS idle ${idleMiB.toFixed(0)} MiB; with ${viewersUp} viewers and ${DOWNLOADS} downloads over ${seconds} s: peak ${loaded.peak.toFixed(0)} MiB (+${(loaded.peak - idleMiB).toFixed(0)}), at the end ${loaded.last.toFixed(0)} MiB`);
console.log(`by kind: idle ${inMiB(idleBreakdown)}`);
console.log(`         at the peak ${inMiB(peakBreakdown)}`);
console.log(`         at the end ${inMiB(endBreakdown)}`);
console.log(`viewers received ${mib(viewerBytes)} MiB in all (${mib(viewerBytes / Math.max(1, viewersUp))} MiB each)`);
console.log(`stream: bucket bytes ${mib(streamBytes)} MiB for ${playedSeconds.toFixed(0)} s played of a ${mib(movie.length)} MiB, 60 s file (${mib(movie.length * Math.min(1, playedSeconds / 60))} MiB of it at real time)`);
console.log(`downloads: bucket bytes ${mib(objectBytes)} MiB for ${mib(downloaded.reduce((a, b) => a + b, 0))} MiB delivered (${downloaded.filter((n) => n === DOWNLOAD_BYTES).length} of ${DOWNLOADS} complete, ${DOWNLOAD_BYTES / 2 ** 20} MiB each)`);
for (const line of downloadErrors) console.log(line);
relay.child.kill('SIGTERM');
await relay.exited;
await s3.close();
await rm(dir, { recursive: true, force: true });
