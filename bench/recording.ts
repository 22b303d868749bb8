// Recording bench: listing and indexing a 30-day archive, the CPU a recorder adds, and retention under a cap.
// Run: node --import tsx bench/recording.ts [--groups list,cpu,retention,shared]
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { link, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { silentLogger } from '../lib/log.ts';
import { segmentRelativePath } from '../relay/recording/names.ts';
import { CameraRecorder } from '../relay/recording/recorder.ts';
import { Retention } from '../relay/recording/retention.ts';
import { SegmentIndex } from '../relay/recording/segment-index.ts';
import { startTestEncodedSource } from '../test/helpers/encoded-source.ts';
import { childFfmpegProcesses } from '../test/helpers/probe.ts';
import { startTestRelay } from '../test/helpers/relay.ts';

const args = process.argv.slice(2);
const groups = (args.includes('--groups') ? args[args.indexOf('--groups') + 1]! : 'list,cpu,retention,shared').split(',');
const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** 30 days of 60 s segments (43,200 files): hard links to one real fragmented MP4, so the archive costs no disk. */
async function listGroup(root: string): Promise<void> {
  const sample = join(root, 'sample.mp4');
  execFileSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc=size=160x120:rate=5', '-t', '2', '-c:v', 'libx264', '-preset', 'ultrafast',
    '-f', 'mp4', '-movflags', '+frag_keyframe+empty_moov+default_base_moof', sample]);
  const dir = join(root, 'archive');
  const start = Date.UTC(2026, 9, 1);
  const count = 30 * 24 * 60;
  for (let i = 0; i < count; i++) {
    // Every 100th hour is missing: gaps the list must show.
    if (Math.floor(i / 60) % 100 === 99) continue;
    const path = join(dir, segmentRelativePath('cam', start + i * 60_000));
    if (i % 1440 === 0 || i % 60 === 0) mkdirSync(dirname(path), { recursive: true });
    await link(sample, path);
  }
  execFileSync('sync');
  const builds: number[] = [];
  for (let run = 0; run < 3; run++) {
    const index = new SegmentIndex(dir);
    const began = performance.now();
    await index.build(silentLogger);
    builds.push(performance.now() - began);
  }
  const relay = await startTestRelay(`RecordPath ${dir}\nRecordMinFreeSpace 0\n<Camera cam>\n  Source testsrc://?size=160x120&rate=1\n</Camera>\n`);
  const files = new SegmentIndex(dir);
  await files.build(silentLogger);
  const latencies: number[] = [];
  let spans = 0;
  for (let i = 0; i < 30; i++) {
    const began = performance.now();
    const body = (await (await fetch(`${relay.baseUrl}/record/list?camera=cam`)).json()) as unknown[];
    latencies.push(performance.now() - began);
    spans = body.length;
  }
  const day: number[] = [];
  for (let i = 0; i < 30; i++) {
    const began = performance.now();
    await (await fetch(`${relay.baseUrl}/record/list?camera=cam&start=2026-10-15T00:00:00Z&end=2026-10-16T00:00:00Z`)).json();
    day.push(performance.now() - began);
  }
  await relay.stop();
  console.log(`list: ${files.segments('cam').length} files; index build median ${median(builds).toFixed(0)} ms (runs ${builds.map((b) => b.toFixed(0)).join(', ')}; target < 3000)`);
  console.log(`list: /record/list whole archive (${spans} spans) median ${median(latencies).toFixed(1)} ms, max ${Math.max(...latencies).toFixed(1)} ms; one day median ${median(day).toFixed(1)} ms (target < 50)`);
}

function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** CPU the recorder adds to an encoder that already runs (640x480, 25 fps): this process plus a writer ffmpeg if any. */
async function cpuGroup(root: string): Promise<void> {
  const source = startTestEncodedSource({ size: '640x480', rate: 25, gop: 50 });
  await sleep(3000);
  const window = 20_000;
  const own = (): number => { const usage = process.cpuUsage(); return (usage.user + usage.system) / 1e6; };
  let began = own();
  await sleep(window);
  const idle = own() - began;
  const index = new SegmentIndex(join(root, 'cpu'));
  const recorder = new CameraRecorder({ camera: 'cam', segmentSeconds: 60, source: source.hub, index, log: silentLogger });
  recorder.start();
  await sleep(3000);
  // Recorders before the in-process writer ran one ffmpeg per segment: its CPU counts when there is one.
  const writerPid = childFfmpegProcesses(process.pid).find((child) => /empty_moov/.test(child.cmdline))?.pid;
  const writerBefore = writerPid === undefined ? 0 : cpuSeconds(writerPid);
  began = own();
  await sleep(window);
  const recording = own() - began;
  const writer = writerPid === undefined ? 0 : cpuSeconds(writerPid) - writerBefore;
  await recorder.stop();
  source.stop();
  const added = ((recording - idle + writer) / (window / 1000)) * 100;
  console.log(`cpu: 640x480 25 fps: relay process ${((idle / window) * 1e5).toFixed(2)}% -> ${((recording / window) * 1e5).toFixed(2)}% of a core, writer ffmpeg ${((writer / window) * 1e5).toFixed(2)}%; recording adds ${added.toFixed(2)}% of a core (target <= 5%)`);
}

/** CPU seconds of a process and all its descendants now, by pid. */
function treeCpu(root: number): Map<number, number> {
  const parents = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      parents.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // gone
    }
  }
  const tree = new Set([root]);
  for (let grew = true; grew;) {
    grew = false;
    for (const [pid, parent] of parents) {
      if (tree.has(parent) && !tree.has(pid)) {
        tree.add(pid);
        grew = true;
      }
    }
  }
  const cpu = new Map<number, number>();
  for (const pid of tree) {
    try {
      cpu.set(pid, cpuSeconds(pid));
    } catch {
      // gone
    }
  }
  return cpu;
}

/**
 * A whole relay process (640x480, 25 fps camera, one FLV stream at 1000 kbit/s) with and without `Record yes` at the
 * stream's settings, alternated: the difference is what recording adds when it shares the live stream's encoder.
 */
async function sharedGroup(root: string): Promise<void> {
  const window = 15_000;
  const results: Record<string, number[]> = { without: [], with: [] };
  for (const variant of ['without', 'with', 'with', 'without']) {
    const file = join(root, `${variant}.conf`);
    const record = variant === 'with' ? 'Record yes\n  RecordSize 640x480\n  RecordFrameRate 25\n  RecordBitRate 1000' : '';
    const { writeFileSync } = await import('node:fs');
    writeFileSync(file, `HTTPPort 0\nRecordPath ${join(root, 'shared')}\nRecordMinFreeSpace 0\n<Camera cam>\n  Source testsrc://?size=640x480&rate=25\n  ${record}\n</Camera>\n<Stream live.flv>\n  Feed cam\n  VideoSize 640x480\n  VideoFrameRate 25\n  VideoBitRate 1000\n</Stream>\n`);
    const { spawn } = await import('node:child_process');
    const child = spawn(process.execPath, [new URL('../relay/bin.mjs', import.meta.url).pathname, '-c', file], { stdio: 'ignore', detached: true });
    await sleep(6000);
    const before = treeCpu(child.pid!);
    await sleep(window);
    const after = treeCpu(child.pid!);
    let used = 0;
    for (const [pid, seconds] of after) used += seconds - (before.get(pid) ?? 0);
    results[variant]!.push((used / (window / 1000)) * 100);
    process.kill(-child.pid!, 'SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
  }
  const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
  const recorded = directoryBytes(join(root, 'shared'));
  console.log(`shared: ${(recorded / 1048576).toFixed(1)} MiB recorded; `);
  console.log(`shared: relay and children without recording ${results.without!.map((v) => v.toFixed(1)).join(', ')}% of a core; with recording at the stream's settings ${results.with!.map((v) => v.toFixed(1)).join(', ')}%; recording adds ${(mean(results.with!) - mean(results.without!)).toFixed(1)}% of a core (target <= 5%)`);
}

function directoryBytes(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    total += entry.isDirectory() ? directoryBytes(path) : statSync(path).size;
  }
  return total;
}

/** A recorder writing four times RecordMaxSize, sampled every 200 ms: at most the cap plus one segment. */
async function retentionGroup(root: string): Promise<void> {
  const dir = join(root, 'retention');
  const source = startTestEncodedSource({ size: '640x480', rate: 25, gop: 25 });
  const index = new SegmentIndex(dir);
  const cap = 256 * 1024;
  const retention = new Retention(index, { cameras: new Map([['cam', { deleteAfterMs: 0, maxBytes: cap }]]), maxTotalBytes: 0, minFreeBytes: 0 }, silentLogger);
  const recorder = new CameraRecorder({ camera: 'cam', segmentSeconds: 2, source: source.hub, index, log: silentLogger, beforeSegment: () => retention.run() });
  recorder.start();
  const timer = setInterval(() => retention.run(), 2000);
  let written = 0;
  let worst = 0;
  let largestSegment = 0;
  let previous = 0;
  const samples: number[] = [];
  while (written < 4 * cap) {
    await sleep(200);
    const bytes = mkdirSafe(dir) ? directoryBytes(dir) : 0;
    const deleted = retention.deletions.cameraSize.bytes;
    written = bytes + deleted;
    largestSegment = Math.max(largestSegment, ...index.segments('cam').map((segment) => segment.bytes));
    worst = Math.max(worst, bytes);
    samples.push(bytes);
    previous = bytes;
  }
  clearInterval(timer);
  await recorder.stop();
  source.stop();
  console.log(`retention: wrote ${(written / 1048576).toFixed(1)} MiB against a ${(cap / 1048576).toFixed(1)} MiB cap in ${samples.length} samples; largest directory ${(worst / 1048576).toFixed(2)} MiB, largest segment ${(largestSegment / 1048576).toFixed(2)} MiB; cap + one segment ${worst <= cap + largestSegment ? 'held' : 'EXCEEDED'} (last ${(previous / 1048576).toFixed(2)} MiB)`);
}

function mkdirSafe(dir: string): boolean {
  try {
    statSync(dir);
    return true;
  } catch {
    return false;
  }
}

const root = await mkdtemp(join(tmpdir(), 'relay-bench-recording-'));
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void rm(root, { recursive: true, force: true }).finally(() => process.exit(1));
  });
}
try {
  if (groups.includes('list')) await listGroup(root);
  if (groups.includes('cpu')) await cpuGroup(root);
  if (groups.includes('retention')) await retentionGroup(root);
  if (groups.includes('shared')) await sharedGroup(root);
} finally {
  await rm(root, { recursive: true, force: true });
}
process.exit(0);
