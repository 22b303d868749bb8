import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import t from 'tap';
import { configFile, relayBin, runRelay } from '../helpers/relay-process.ts';
import { childFfmpegProcesses, childFfmpegs, fetchBytes, openViewer, waitFor } from '../helpers/probe.ts';

const bin = relayBin;

function camera(name: string): string {
  return `<Camera ${name}>\n  Source testsrc://?size=160x120&rate=5\n</Camera>\n<Stream ${name}.mjpg>\n  Feed ${name}\n</Stream>\n`;
}

function run(args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk));
    child.stderr.on('data', (chunk: Buffer) => (out += chunk));
    child.on('exit', (code) => resolve({ code, out }));
  });
}

// The command-line tests start short-lived processes and nothing else: they run side by side, the others one at a time.
t.jobs = 4;

const checks = t.test('--check: exit 0 for the example config, exit 1 listing every error of a bad one', async (t) => {
  const example = new URL('../../relay.conf.example', import.meta.url).pathname;
  // Three separate processes: started together, as each takes seconds to load the relay.
  const [good, bad, missing] = await Promise.all([
    run(['--check', example]),
    configFile('HTTPPrt 1\n<Camera c>\n</Camera>\n').then((file) => run(['--check', file])),
    run(['--check', '/nonexistent/relay.conf']),
  ]);
  t.equal(good.code, 0);
  t.match(good.out, /: ok/);
  t.equal(bad.code, 1);
  t.match(bad.out, /relay\.conf:2: HTTPPrt: unknown directive in the global section \(did you mean HTTPPort\?\)/);
  t.match(bad.out, /relay\.conf:3: <Camera c>: missing required directive Source/);
  t.match(bad.out, /2 error\(s\)/);
  t.equal(missing.code, 1);
  t.match(missing.out, /cannot read: ENOENT/);
});

const flags = t.test('--help, --version, a bad flag', async (t) => {
  const [help, version, bogus] = await Promise.all([run(['--help']), run(['--version']), run(['--bogus'])]);
  t.match(help.out, /relay --check FILE/);
  t.match(version.out, /^relay \d+\.\d+\.\d+\n$/);
  t.equal(bogus.code, 2);
});

const missingFfmpeg = t.test('a missing ffmpeg is a clear startup error, not a stack trace', async (t) => {
  const result = await run(['-c', await configFile(`FFmpegPath /nonexistent/ffmpeg\n${camera('a')}`)]);
  t.equal(result.code, 1);
  t.match(result.out, /FFmpegPath \/nonexistent\/ffmpeg does not run as ffmpeg/);
  t.notMatch(result.out, /\n\s+at /, 'no stack trace');
});

// Guards: --check accepted an FFmpegPath that does not exist; the relay then failed only at start.
const checkedFfmpegPath = t.test('--check validates FFmpegPath', async (t) => {
  const bad = await run(['--check', await configFile(`FFmpegPath /nonexistent/ffmpeg\n${camera('a')}`)]);
  t.equal(bad.code, 1);
  t.match(bad.out, /FFmpegPath/);
  t.match(bad.out, /\/nonexistent\/ffmpeg/);
});

await Promise.all([checks, flags, missingFfmpeg, checkedFfmpegPath]);

// Each of these runs its own relay process and counts only that process's children: side by side too. The 2,000-camera
// reload (both cores, a response-time bound), the temporary-directory check and the example config then run one at a time.
t.jobs = 5;

const credentials = t.test('startup names the ffmpeg used; credentials never reach the log', async (t) => {
  const relay = await runRelay(await configFile(`${camera('a')}<Camera secret>\n  Source http://admin:hunter2@127.0.0.1:9/video\n  Password hunter3\n</Camera>\n`));
  t.match(relay.output(), /using ffmpeg \S+ at \S+ \(from (config|PATH|@ffmpeg-installer\/ffmpeg)\)/);
  // Until the unreachable camera's failure is logged: the line that would carry its URL.
  await waitFor(() => /camera secret[^\n]*(failed to start|died)/.test(relay.output()), 10_000, 'the camera\'s failure logged');
  t.match(relay.output(), /camera secret/);
  t.notMatch(relay.output(), /hunter2|hunter3/);
  const stat = await fetchBytes(`http://127.0.0.1:${relay.port()}/stat.json`);
  t.notMatch(stat.body.toString(), /hunter2|hunter3|admin/);
  relay.child.kill('SIGTERM');
  await relay.exited;
});

const sigterm = t.test('SIGTERM: viewers are ended, ffmpeg children stopped, exit 0 within a few seconds', async (t) => {
  const relay = await runRelay(await configFile(`${camera('a')}<Stream a.flv>\n  Feed a\n  VideoBitRate 100\n</Stream>\n`));
  const viewer = await openViewer(`http://127.0.0.1:${relay.port()}/a.flv`);
  await waitFor(() => viewer.bytes > 0, 10_000, 'FLV bytes');
  const pid = relay.child.pid!;
  t.equal(childFfmpegs(pid).length, 2, 'camera and transcode running');
  const ended = new Promise((resolve) => viewer.response.on('close', resolve));
  const start = Date.now();
  relay.child.kill('SIGTERM');
  t.equal(await relay.exited, 0);
  t.ok(Date.now() - start < 5000, `stopped in ${Date.now() - start} ms`);
  await ended;
  await waitFor(() => childFfmpegs(pid).length === 0, 3000, 'no ffmpeg left');
});

const sigkill = t.test('SIGKILL of the relay leaves no orphaned ffmpeg', async (t) => {
  const relay = await runRelay(await configFile(`${camera('a')}<Stream a.flv>\n  Feed a\n  VideoBitRate 100\n</Stream>\n`));
  await waitFor(() => childFfmpegs(relay.child.pid!).length === 2, 10_000, 'two ffmpeg children');
  const children = childFfmpegProcesses(relay.child.pid!).map((child) => child.pid);
  relay.child.kill('SIGKILL');
  await relay.exited;
  // The transcode sees EOF on stdin; the synthetic camera gets EPIPE on stdout: both exit by themselves.
  await waitFor(() => children.every((pid) => !isAlive(pid)), 5000, `ffmpeg ${children.join(', ')} to exit`);
  t.equal(children.length, 2);
});

const sighup = t.test('SIGHUP reload: new streams start, removed ones stop, unchanged viewers stay; a broken file is rejected', async (t) => {
  const file = await configFile(camera('keep') + camera('drop'));
  const relay = await runRelay(file);
  const base = `http://127.0.0.1:${relay.port()}`;
  const viewer = await openViewer(`${base}/keep.mjpg`);
  await waitFor(() => viewer.bytes > 0, 10_000, 'frames');
  await writeFile(file, `HTTPPort 0\n${camera('keep')}${camera('added')}`);
  relay.child.kill('SIGHUP');
  await waitFor(() => /reloaded:/.test(relay.output()), 10_000, 'the reload');
  t.equal((await fetchBytes(`${base}/drop.mjpg`)).status, 404, 'removed stream is gone');
  const added = await openViewer(`${base}/added.mjpg`);
  await waitFor(() => added.bytes > 0, 10_000, 'the added stream to serve');
  added.close();
  const bytes = viewer.bytes;
  await waitFor(() => viewer.bytes > bytes, 3000, 'the unchanged viewer to keep receiving');
  t.notOk(viewer.response.destroyed, 'unchanged stream kept its viewer');
  await writeFile(file, 'HTTPPort 0\n<Camera broken>\n');
  relay.child.kill('SIGHUP');
  await waitFor(() => /reload rejected, keeping the running config/.test(relay.output()), 10_000, 'the rejection');
  t.match(relay.output(), /<Camera broken> is never closed/);
  const still = viewer.bytes;
  await waitFor(() => viewer.bytes > still, 3000, 'still serving after the rejected reload');
  viewer.close();
  relay.child.kill('SIGTERM');
  t.equal(await relay.exited, 0);
});

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

// Guards: SIGHUPs 20 ms apart, alternating two configs, left orphaned encoders running (40 reloads left 28).
const rapidReloads = t.test('40 rapid alternating reloads leave exactly the encoders the final config needs', async (t) => {
  const cameraBlock = '<Camera x>\n  Source testsrc://?size=160x120&rate=5\n</Camera>\n';
  const flv = (name: string, kbps: number): string => `<Stream ${name}>\n  Feed x\n  VideoBitRate ${kbps}\n</Stream>\n`;
  const twoEncoders = `HTTPPort 0\n${cameraBlock}${flv('x.flv', 100)}${flv('y.flv', 200)}`;
  const oneEncoder = `HTTPPort 0\n${cameraBlock}${flv('x.flv', 300)}`;
  const file = await configFile(cameraBlock + flv('x.flv', 100));
  const relay = await runRelay(file);
  t.teardown(() => void relay.child.kill('SIGKILL'));
  const encoders = (): number => childFfmpegs(relay.child.pid!).filter((cmd) => cmd.includes('libx264')).length;
  await waitFor(() => encoders() === 1, 10_000, 'the first encoder');
  for (let i = 0; i < 40; i++) {
    await writeFile(file, i % 2 === 0 ? twoEncoders : oneEncoder);
    relay.child.kill('SIGHUP');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  await waitFor(() => (relay.output().match(/reloaded:/g) ?? []).length >= 1, 10_000, 'reloads');
  // Settle: the last reload has read the final file (one encoder at 300 kbit/s) and nothing else is running.
  await new Promise((resolve) => setTimeout(resolve, 4000));
  t.equal(encoders(), 1, `one encoder left (${childFfmpegs(relay.child.pid!).join(' | ')})`);
  const reloads = (relay.output().match(/reloaded:/g) ?? []).length;
  t.ok(reloads < 40, `${reloads} reloads ran for 40 signals: requests during a reload were coalesced`);
  const stat = (await (await fetch(`http://127.0.0.1:${relay.port()}/stat.json`)).json()) as { streams: Array<{ name: string }>; encoders: unknown[] };
  t.same(stat.streams.map((stream) => stream.name), ['x.flv'], 'the final config is in force');
  t.equal(stat.encoders.length, 1);
  relay.child.kill('SIGTERM');
  t.equal(await relay.exited, 0);
});

await Promise.all([credentials, sigterm, sigkill, sighup, rapidReloads]);
t.jobs = 1;

// Guards: a reload to 2,000 synthetic cameras forked 2,000 ffmpegs, froze the event loop, and ignored SIGTERM for a minute.
t.test('a reload to 2,000 cameras runs at most MaxProcesses children, stays responsive, and stops on SIGTERM', async (t) => {
  const file = await configFile(`MaxProcesses 24\n${camera('first')}`);
  const relay = await runRelay(file);
  t.teardown(() => void relay.child.kill('SIGKILL'));
  const many = Array.from({ length: 2000 }, (_, i) => camera(`c${i}`)).join('');
  await writeFile(file, `HTTPPort 0\nMaxProcesses 24\n${many}`);
  relay.child.kill('SIGHUP');
  await waitFor(() => /reloaded:/.test(relay.output()), 30_000, 'the reload');
  let peak = 0;
  const slowest: number[] = [];
  for (let i = 0; i < 15; i++) {
    peak = Math.max(peak, childFfmpegs(relay.child.pid!).length);
    const started = Date.now();
    const response = await fetch(`http://127.0.0.1:${relay.port()}/c0.mjpg`, { method: 'HEAD' });
    slowest.push(Date.now() - started);
    t.equal(response.status, 200, 'answers while starting');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  t.ok(peak <= 24, `at most 24 ffmpeg children (peak ${peak})`);
  t.ok(Math.max(...slowest) < 2000, `requests answered in ${Math.max(...slowest)} ms at worst`);
  const stopping = Date.now();
  relay.child.kill('SIGTERM');
  const code = await Promise.race([relay.exited, new Promise((resolve) => setTimeout(() => resolve('still running'), 10_000))]);
  t.equal(code, 0, `stopped on SIGTERM in ${Date.now() - stopping} ms`);
});

// Guards: a relay that could not listen (port in use) left an empty HLS temporary directory behind.
t.test('a start that fails on a port in use leaves no temporary directory behind', async (t) => {
  const holder = createServer();
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
  t.teardown(() => holder.close());
  const port = (holder.address() as AddressInfo).port;
  const before = new Set(readdirSync(tmpdir()).filter((name) => name.startsWith('relay-hls-')));
  const file = await configFile(`${camera('a')}<Stream a.m3u8>\n  Feed a\n  VideoBitRate 100\n</Stream>\n`);
  await writeFile(file, `HTTPPort ${port}\n${camera('a')}<Stream a.m3u8>\n  Feed a\n  VideoBitRate 100\n</Stream>\n`);
  const result = await run(['-c', file]);
  t.equal(result.code, 1);
  t.match(result.out, /EADDRINUSE|in use/);
  const left = readdirSync(tmpdir()).filter((name) => name.startsWith('relay-hls-') && !before.has(name));
  t.same(left, [], 'no new relay-hls-* directory');
});

// The README's first command: the example config serves test.flv and test.m3u8 from ONE encoder.
t.test('the example config runs one encoder for test.flv and test.m3u8', async (t) => {
  // RTSP off: its fixed example port may be taken on a shared machine (RTSP over the example config: test/relay/rtsp).
  const example = readFileSync(new URL('../../relay.conf.example', import.meta.url), 'utf8').replace(/^HTTPPort\s+\d+/m, 'HTTPPort 0')
    .replace(/^RTSPPort\s+\d+/m, 'RTSPPort 0');
  const relay = await runRelay(await configFile(example.replace(/^HTTPPort 0\n?/m, '')));
  t.teardown(() => void relay.child.kill('SIGKILL'));
  const base = `http://127.0.0.1:${relay.port()}`;
  const flv = await openViewer(`${base}/test.flv`);
  t.teardown(() => flv.close());
  await waitFor(async () => (await fetchBytes(`${base}/test.m3u8`)).status === 200, 20_000, 'the HLS playlist');
  await waitFor(() => flv.bytes > 10_000, 10_000, 'FLV bytes');
  const ffmpegs = childFfmpegs(relay.child.pid!);
  t.equal(ffmpegs.filter((cmd) => cmd.includes('libx264')).length, 1, `one encoder:\n${ffmpegs.join('\n')}`);
  const stat = (await (await fetch(`${base}/stat.json`)).json()) as { encoders: Array<{ kind: string; codec: string; streams: string[] }> };
  t.same(stat.encoders.filter((encoder) => encoder.kind === 'video').map((encoder) => encoder.streams), [['test.flv', 'test.m3u8']], '/stat.json: the two streams share it');
  // The example camera's tone is AAC already: one sound part, copied, for both streams.
  t.same(stat.encoders.filter((encoder) => encoder.kind === 'audio').map((encoder) => [encoder.codec, encoder.streams]), [['copy', ['test.flv', 'test.m3u8']]]);
  relay.child.kill('SIGTERM');
  t.equal(await relay.exited, 0);
});
