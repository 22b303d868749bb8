// CPU of the recording archive: SEGMENTS closed segments of 60 s of 1 Mbit/s fMP4 uploaded by the Archiver (the relay's
// own code, in this process) to the tests' S3 server running in a child process; the CPU time of each process per GB
// uploaded, extrapolated to a day of one camera at 1 Mbit/s (86 400 s x 1 Mbit/s = 10.8 GB).
// Usage: node --import tsx bench/s3-archive.ts [SEGMENTS=60]
import { execFile, spawn } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { createLogger } from '../lib/log.ts';
import { ObjectStore } from '../lib/object-store.ts';
import { Archiver } from '../relay/recording/archiver.ts';
import { segmentRelativePath } from '../relay/recording/names.ts';
import { SegmentIndex } from '../relay/recording/segment-index.ts';

const SEGMENTS = Number(process.argv[2] ?? 60);
const SEGMENT_MS = 60_000;
/** How often the relay runs the archive step (its retention pass runs it about this often). */
const TICK_MS = 1000;
const DAY_BYTES = (86_400 * 1_000_000) / 8;

const dir = await mkdtemp(join(tmpdir(), 'bench-s3-archive-'));
const sample = join(dir, 'sample.mp4');
// One real segment as the recorder writes them: fragmented MP4, 60 s, 1 Mbit/s H.264, keyframe every 2 s.
await promisify(execFile)('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=25:duration=60',
  '-c:v', 'libx264', '-preset', 'ultrafast', '-b:v', '1M', '-maxrate', '1M', '-bufsize', '2M', '-g', '50', '-pix_fmt', 'yuv420p',
  '-movflags', 'frag_keyframe+empty_moov+default_base_moof', sample]);
const segmentBytes = (await stat(sample)).size;

const peer = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'peers/s3-peer.ts'), 'archive'], { stdio: ['pipe', 'pipe', 'inherit'] });
const answers = createInterface({ input: peer.stdout })[Symbol.asyncIterator]();
const ask = async (line?: string): Promise<Record<string, number | string>> => {
  if (line) peer.stdin.write(`${line}\n`);
  return JSON.parse((await answers.next()).value as string) as Record<string, number | string>;
};
const { endpoint } = await ask();

const index = new SegmentIndex(dir);
const base = Math.floor(Date.now() / SEGMENT_MS) * SEGMENT_MS - (SEGMENTS + 1) * SEGMENT_MS;
for (let i = 0; i < SEGMENTS; i++) {
  const start = base + i * SEGMENT_MS;
  const path = segmentRelativePath('cam', start);
  await mkdir(join(dir, path, '..'), { recursive: true });
  await copyFile(sample, join(dir, path));
  index.add({ camera: 'cam', start, end: start + SEGMENT_MS, bytes: segmentBytes, path, open: false });
}

const store = new ObjectStore({ name: 'archive', endpoint: String(endpoint), region: 'us-east-1', bucket: 'archive', pathStyle: true, tlsVerify: true, accessKey: () => 'AKIABENCH', secretKey: () => 'bench-secret' });
// RecordLocalKeep 0: each local copy is deleted once archived, as part of the work measured.
const archiver = new Archiver(index, new Map([['cam', { store, localKeepMs: 0, segmentMs: SEGMENT_MS }]]), createLogger('bench'));

const peerBefore = Number((await ask('cpu')).cpuMicros);
const before = process.cpuUsage();
const startedAt = performance.now();
await archiver.start();
while (archiver.status.uploaded < SEGMENTS || archiver.status.localDeleted < SEGMENTS) {
  archiver.tick();
  await sleep(TICK_MS);
}
const wallS = (performance.now() - startedAt) / 1000;
const used = process.cpuUsage(before);
const relayCpuS = (used.user + used.system) / 1e6;
const peerAnswer = await ask('cpu');
const peerCpuS = (Number(peerAnswer.cpuMicros) - peerBefore) / 1e6;
archiver.stop();
store.close();

const gb = archiver.status.uploadedBytes / 1e9;
const perDay = (cpuS: number): string => `${((cpuS / gb) * (DAY_BYTES / 1e9)).toFixed(1)} CPU-s/day = ${(((cpuS / gb) * (DAY_BYTES / 1e9)) / 86_400 * 100).toFixed(3)} % of a core`;
console.log(`segments ${SEGMENTS} x ${(segmentBytes / 1e6).toFixed(2)} MB (${((SEGMENTS * SEGMENT_MS) / 3_600_000).toFixed(2)} h of one camera), uploaded ${archiver.status.uploaded} = ${gb.toFixed(3)} GB in ${wallS.toFixed(1)} s, failures ${archiver.status.failures}, objects in the bucket ${peerAnswer.objects}`);
console.log(`relay (archiver) CPU: ${relayCpuS.toFixed(2)} s (user ${(used.user / 1e6).toFixed(2)}, system ${(used.system / 1e6).toFixed(2)}) = ${(relayCpuS / gb).toFixed(1)} CPU-s/GB; a day at 1 Mbit/s (10.8 GB): ${perDay(relayCpuS)}`);
console.log(`S3 peer (s3rver + proxy) CPU: ${peerCpuS.toFixed(2)} s = ${(peerCpuS / gb).toFixed(1)} CPU-s/GB; a day: ${perDay(peerCpuS)}`);
peer.stdin.write('quit\n');
await new Promise((resolve) => peer.once('exit', resolve));
await rm(dir, { recursive: true, force: true });
