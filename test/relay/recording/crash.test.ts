// Guards: kill -9 of a recording relay cost more than the last second of the open segment, or left a file that does not play.
import { spawn, type ChildProcess } from 'node:child_process';
import { readdir, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import t from 'tap';
import { segmentStart } from '../../../relay/recording/names.ts';
import { fetchBytes, waitFor } from '../../helpers/probe.ts';
import { probeFile, sleep, tempDir } from './fixtures.ts';

const bin = new URL('../../../relay/bin.mjs', import.meta.url).pathname;

/** Runs the relay as its own process group, so that kill -9 can take it and its ffmpeg children down at once. */
async function runRelay(configFile: string): Promise<{ child: ChildProcess; port: number; output: () => string }> {
  const child = spawn(process.execPath, [bin, '-c', configFile], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk));
  await waitFor(() => /serving on http:\/\/127\.0\.0\.1:\d+/.test(output), 20_000, `the relay to listen:\n${output}`);
  return { child, port: Number(/serving on http:\/\/127\.0\.0\.1:(\d+)/.exec(output)![1]), output: () => output };
}

async function segmentFiles(dir: string): Promise<string[]> {
  const files: string[] = [];
  for (const day of await readdir(join(dir, 'test')).catch(() => [])) {
    for (const file of await readdir(join(dir, 'test', day))) files.push(join(dir, 'test', day, file));
  }
  return files.sort();
}

t.test('kill -9 of the relay and its ffmpegs mid-segment: every segment plays, and a restart indexes the cut one', async (t) => {
  const { dir, cleanup } = await tempDir('relay-crash-');
  t.teardown(cleanup);
  const configFile = join(dir, 'relay.conf');
  await writeFile(configFile, `HTTPPort 0
RecordPath ${join(dir, 'rec')}
RecordMinFreeSpace 0
<Camera test>
  Source testsrc://?size=160x120&rate=10
  Record yes
  RecordSegmentSeconds 3
</Camera>
`);
  const first = await runRelay(configFile);
  t.teardown(() => {
    try {
      process.kill(-first.child.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
  });
  await waitFor(async () => (await segmentFiles(join(dir, 'rec'))).length >= 3, 30_000, 'three segments');
  await sleep(1700); // well into the next segment
  const killedAt = Date.now();
  process.kill(-first.child.pid!, 'SIGKILL'); // the relay and its encoders, all at once
  await new Promise((resolve) => first.child.once('exit', resolve));
  const files = await segmentFiles(join(dir, 'rec'));
  t.ok(files.length >= 3);
  for (const file of files) {
    const probed = await probeFile(file);
    t.ok(probed.frames >= 5, `${file} plays after the crash (${probed.frames} frames)`);
  }
  // The segment open at the kill plays up to within a second of it: its name is the wall time of its first frame.
  const cut = files.at(-1)!;
  const cutStart = segmentStart(basename(dirname(cut)), basename(cut))!;
  const cutProbe = await probeFile(cut);
  const lostMs = killedAt - (cutStart + cutProbe.duration * 1000);
  t.ok(lostMs <= 1000, `the cut segment ends ${lostMs.toFixed(0)} ms before the kill (${cutProbe.frames} frames)`);

  const second = await runRelay(configFile);
  t.teardown(() => {
    try {
      process.kill(-second.child.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
  });
  t.match(second.output(), new RegExp(`indexed ${files.length} segment\\(s\\)`), 'the restart indexes every file');
  const list = JSON.parse((await fetchBytes(`http://127.0.0.1:${second.port}/record/list?camera=test`)).body.toString()) as Array<{ duration: number }>;
  t.ok(list.length >= 1 && list[0]!.duration >= 6, `the crashed recording is listed: ${JSON.stringify(list)}`);
  await waitFor(async () => (await segmentFiles(join(dir, 'rec'))).length > files.length, 20_000, 'recording again');
  second.child.kill('SIGTERM');
  t.equal(await new Promise((resolve) => second.child.once('exit', resolve)), 0, 'a clean stop after recovery');
});
