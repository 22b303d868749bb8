// Time from /api/vod/startup of a large moov-first MP4 in a bucket to the first video frame on its FLV stream.
// Usage: node --import tsx bench/s3.ts [SECONDS_OF_VIDEO=120] [RUNS=7]
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { FlvTagReader } from '../media/flv/tags.ts';
import { startTestRelay } from '../test/helpers/relay.ts';
import { TestS3Server } from '../test/helpers/s3-server.ts';

const seconds = Number(process.argv[2] ?? 120);
const runs = Number(process.argv[3] ?? 7);
const dir = await mkdtemp(join(tmpdir(), 'bench-s3-'));
const file = join(dir, 'large.mp4');
const made = performance.now();
// A high bit rate makes a large file quickly: 1280x720 at 25 fps, 16 Mbit/s, keyframe every 2 s, moov first.
await promisify(execFile)('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', `testsrc2=size=1280x720:rate=25:duration=${seconds}`,
  '-c:v', 'libx264', '-preset', 'ultrafast', '-b:v', '16M', '-maxrate', '16M', '-bufsize', '8M', '-g', '50', '-bf', '0', '-pix_fmt', 'yuv420p', '-movflags', '+faststart', file]);
const size = (await stat(file)).size;
console.log(`made ${(size / 2 ** 20).toFixed(0)} MiB (${seconds} s) in ${((performance.now() - made) / 1000).toFixed(1)} s`);
const s3 = await TestS3Server.start('bench');
s3.addCredentials('AKIABENCH', 'bench-secret');
await s3.put('large.mp4', await readFile(file));
// The same file in MediaPath, as the baseline: what the relay takes to start a local file and encode its first frame.
const relay = await startTestRelay(`MediaPath ${dir}\n<Storage bench>\n  Endpoint ${s3.endpoint}\n  Bucket bench\n  AccessKey AKIABENCH\n  SecretKey bench-secret\n</Storage>\n`);

/** Milliseconds from the startup call to the first video tag of /NAME.flv, and the bucket bytes read by then. */
async function firstFrame(name: string, uri = 'vod-live://s3/bench/large.mp4'): Promise<{ ms: number; bytes: number }> {
  const before = s3.bytesServed('large.mp4');
  const started = performance.now();
  const answer = await fetch(`${relay.baseUrl}/api/vod/startup`, { method: 'POST', body: JSON.stringify({ uri, localStreamName: name }) });
  if (answer.status !== 200) throw new Error(`startup: ${answer.status} ${await answer.text()}`);
  const controller = new AbortController();
  const response = await fetch(`${relay.baseUrl}/${name}.flv`, { signal: controller.signal });
  const tags = new FlvTagReader();
  const reader = response.body!.getReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done || tags.push(Buffer.from(value)).some((tag) => tag.type === 9 && !tag.sequenceHeader)) break;
  }
  const ms = performance.now() - started;
  controller.abort();
  const bytes = s3.bytesServed('large.mp4') - before;
  await fetch(`${relay.baseUrl}/api/vod/terminate`, { method: 'POST', body: JSON.stringify({ localStreamName: name }) });
  return { ms, bytes };
}

const results: Array<{ ms: number; bytes: number }> = [];
for (let run = 0; run < runs; run++) results.push(await firstFrame(`bench${run}`));
const sorted = results.map((r) => r.ms).sort((a, b) => a - b);
const p50 = sorted[Math.floor(sorted.length / 2)]!;
console.log(`object ${(size / 2 ** 20).toFixed(0)} MiB; startup to first frame over ${runs} runs: p50 ${p50.toFixed(0)} ms, min ${sorted[0]!.toFixed(0)} ms, max ${sorted.at(-1)!.toFixed(0)} ms`);
console.log(`bucket bytes read per run up to the first frame (and until the viewer left): ${results.map((r) => (r.bytes / 2 ** 20).toFixed(1)).join(', ')} MiB`);
const local: number[] = [];
for (let run = 0; run < runs; run++) local.push((await firstFrame(`local${run}`, 'vod-live://large.mp4')).ms);
local.sort((a, b) => a - b);
console.log(`the same file from MediaPath (baseline): p50 ${local[Math.floor(local.length / 2)]!.toFixed(0)} ms, min ${local[0]!.toFixed(0)} ms, max ${local.at(-1)!.toFixed(0)} ms`);
await relay.stop();
await s3.close();
await rm(dir, { recursive: true, force: true });
