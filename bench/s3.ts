// Time from /api/vod/startup of a large moov-first MP4 in a bucket to the first video frame on its FLV stream, by stage.
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

/** Milliseconds from the startup call to each stage; `bytes` is what the bucket served during the run. */
interface Run {
  /** The startup answer (object found, moov checked, probed; camera added). */
  readonly api: number;
  /** The camera's first frame out of its reading ffmpeg (source started, first packet read and remuxed). */
  readonly source: number;
  /** The first bytes of /NAME.flv (FLV header). */
  readonly flvHeader: number;
  /** The encoder's sequence header (the encoder started and wrote its first tag). */
  readonly sequenceHeader: number;
  /** The first video frame after the sequence header: the figure the target is about. */
  readonly firstFrame: number;
  readonly bytes: number;
}

async function firstFrame(name: string, uri = 'vod-live://s3/bench/large.mp4'): Promise<Run> {
  const before = s3.bytesServed('large.mp4');
  const started = performance.now();
  const since = (): number => performance.now() - started;
  const answer = await fetch(`${relay.baseUrl}/api/vod/startup`, { method: 'POST', body: JSON.stringify({ uri, localStreamName: name }) });
  if (answer.status !== 200) throw new Error(`startup: ${answer.status} ${await answer.text()}`);
  const api = since();
  let source = NaN;
  const feed = relay.relay.feeds.get(name);
  const unsubscribe = feed?.subscribe(() => {
    if (Number.isNaN(source)) source = since();
  });
  const controller = new AbortController();
  const response = await fetch(`${relay.baseUrl}/${name}.flv`, { signal: controller.signal });
  const tags = new FlvTagReader();
  const reader = response.body!.getReader();
  let flvHeader = NaN;
  let sequenceHeader = NaN;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) throw new Error('the FLV stream ended before its first frame');
    if (Number.isNaN(flvHeader)) flvHeader = since();
    const video = tags.push(Buffer.from(value)).filter((tag) => tag.type === 9);
    if (Number.isNaN(sequenceHeader) && video.some((tag) => tag.sequenceHeader)) sequenceHeader = since();
    if (video.some((tag) => !tag.sequenceHeader)) break;
  }
  const result = { api, source, flvHeader, sequenceHeader, firstFrame: since() };
  unsubscribe?.();
  controller.abort();
  await fetch(`${relay.baseUrl}/api/vod/terminate`, { method: 'POST', body: JSON.stringify({ localStreamName: name }) });
  return { ...result, bytes: s3.bytesServed('large.mp4') - before };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function report(label: string, results: Run[]): void {
  const stages = ['api', 'source', 'flvHeader', 'sequenceHeader', 'firstFrame'] as const;
  const frames = results.map((r) => r.firstFrame).sort((a, b) => a - b);
  console.log(`${label}: startup to first frame over ${results.length} runs: p50 ${median(frames).toFixed(0)} ms, min ${frames[0]!.toFixed(0)} ms, max ${frames.at(-1)!.toFixed(0)} ms`);
  console.log(`  p50 by stage (ms from the startup call): ${stages.map((stage) => `${stage} ${median(results.map((r) => r[stage])).toFixed(0)}`).join(', ')}`);
}

const bucket: Run[] = [];
for (let run = 0; run < runs; run++) bucket.push(await firstFrame(`bench${run}`));
console.log(`object ${(size / 2 ** 20).toFixed(0)} MiB`);
report('bucket (vod-live://s3/bench/large.mp4)', bucket);
console.log(`  bucket bytes read per run (startup to the viewer leaving): ${bucket.map((r) => (r.bytes / 2 ** 20).toFixed(1)).join(', ')} MiB`);
const local: Run[] = [];
for (let run = 0; run < runs; run++) local.push(await firstFrame(`local${run}`, 'vod-live://large.mp4'));
report('local (vod-live://large.mp4)', local);
await relay.stop();
await s3.close();
await rm(dir, { recursive: true, force: true });
