import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
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

t.test('--check: exit 0 for the example config, exit 1 listing every error of a bad one', async (t) => {
  const example = new URL('../../relay.conf.example', import.meta.url).pathname;
  const good = await run(['--check', example]);
  t.equal(good.code, 0);
  t.match(good.out, /: ok/);
  const bad = await run(['--check', await configFile('HTTPPrt 1\n<Camera c>\n</Camera>\n')]);
  t.equal(bad.code, 1);
  t.match(bad.out, /relay\.conf:2: HTTPPrt: unknown directive in the global section \(did you mean HTTPPort\?\)/);
  t.match(bad.out, /relay\.conf:3: <Camera c>: missing required directive Source/);
  t.match(bad.out, /2 error\(s\)/);
  const missing = await run(['--check', '/nonexistent/relay.conf']);
  t.equal(missing.code, 1);
  t.match(missing.out, /cannot read: ENOENT/);
});

t.test('--help, --version, a bad flag', async (t) => {
  t.match((await run(['--help'])).out, /relay --check FILE/);
  t.match((await run(['--version'])).out, /^relay \d+\.\d+\.\d+\n$/);
  t.equal((await run(['--bogus'])).code, 2);
});

t.test('a missing ffmpeg is a clear startup error, not a stack trace', async (t) => {
  const result = await run(['-c', await configFile(`FFmpegPath /nonexistent/ffmpeg\n${camera('a')}`)]);
  t.equal(result.code, 1);
  t.match(result.out, /FFmpegPath \/nonexistent\/ffmpeg does not run as ffmpeg/);
  t.notMatch(result.out, /\n\s+at /, 'no stack trace');
});

t.test('startup names the ffmpeg used; credentials never reach the log', async (t) => {
  const relay = await runRelay(await configFile(`${camera('a')}<Camera secret>\n  Source http://admin:hunter2@127.0.0.1:9/video\n  Password hunter3\n</Camera>\n`));
  t.match(relay.output(), /using ffmpeg \S+ at \S+ \(from (config|PATH|@ffmpeg-installer\/ffmpeg)\)/);
  await new Promise((resolve) => setTimeout(resolve, 1500)); // let the unreachable camera fail and be logged
  t.match(relay.output(), /camera secret/);
  t.notMatch(relay.output(), /hunter2|hunter3/);
  const stat = await fetchBytes(`http://127.0.0.1:${relay.port()}/stat.json`);
  t.notMatch(stat.body.toString(), /hunter2|hunter3|admin/);
  relay.child.kill('SIGTERM');
  await relay.exited;
});

t.test('SIGTERM: viewers are ended, ffmpeg children stopped, exit 0 within a few seconds', async (t) => {
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

t.test('SIGKILL of the relay leaves no orphaned ffmpeg', async (t) => {
  const relay = await runRelay(await configFile(`${camera('a')}<Stream a.flv>\n  Feed a\n  VideoBitRate 100\n</Stream>\n`));
  await waitFor(() => childFfmpegs(relay.child.pid!).length === 2, 10_000, 'two ffmpeg children');
  const children = childFfmpegProcesses(relay.child.pid!).map((child) => child.pid);
  relay.child.kill('SIGKILL');
  await relay.exited;
  // The transcode sees EOF on stdin; the synthetic camera gets EPIPE on stdout: both exit by themselves.
  await waitFor(() => children.every((pid) => !isAlive(pid)), 5000, `ffmpeg ${children.join(', ')} to exit`);
  t.equal(children.length, 2);
});

t.test('SIGHUP reload: new streams start, removed ones stop, unchanged viewers stay; a broken file is rejected', async (t) => {
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
