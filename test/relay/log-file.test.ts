import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rename, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { createLogger } from '../../lib/log.ts';
import { relayBin } from '../helpers/relay-process.ts';
import { unusedPort } from '../helpers/ports.ts';
import { waitFor } from '../helpers/probe.ts';

t.test('LogLevel drops lower levels and LogFormat json writes one object per line, redacted like text', async (t) => {
  const lines: string[] = [];
  let level: 'info' | 'warn' = 'warn';
  const log = createLogger('relay', (line) => lines.push(line), { level: () => level, format: () => 'json' }).child('camera a');
  log.info('connected');
  log.warn('failed: http://admin:hunter2@cam/video');
  level = 'info';
  log.info('back');
  t.equal(lines.length, 2);
  const first = JSON.parse(lines[0]!) as Record<string, string>;
  t.same(Object.keys(first), ['time', 'level', 'component', 'message']);
  t.same([first.level, first.component, first.message], ['warn', 'relay/camera a', 'failed: http://admin:***@cam/video']);
  t.equal((JSON.parse(lines[1]!) as Record<string, string>).message, 'back', 'a changed level applies to loggers already made');
});

// Guards: the relay could only log to stderr as text at every level; logrotate had no file to rotate.
t.test('LogFile with LogLevel warn and LogFormat json; SIGHUP after logrotate moved the file starts a new one', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'relay-log-'));
  const logFile = join(dir, 'relay.log');
  const conf = join(dir, 'relay.conf');
  const base = `HTTPPort 0\nLogFile ${logFile}\nLogLevel warn\nLogFormat json\n<Camera dead>\n  Source http://127.0.0.1:${await unusedPort()}/video.mjpg\n</Camera>\n`;
  await writeFile(conf, base);
  const child = spawn(process.execPath, [relayBin, '-c', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
  let printed = '';
  child.stdout.on('data', (chunk: Buffer) => (printed += chunk));
  child.stderr.on('data', (chunk: Buffer) => (printed += chunk));
  const exited = new Promise((resolve) => child.on('exit', resolve));
  t.teardown(async () => {
    child.kill('SIGTERM');
    await exited;
  });
  const read = async (file: string) => (existsSync(file) ? (await readFile(file, 'utf8')).split('\n').filter(Boolean) : []);
  await waitFor(async () => (await read(logFile)).some((line) => line.includes('failed to start')), 20_000, 'the outage warning in the file');
  const before = (await read(logFile)).map((line) => JSON.parse(line) as { level: string; message: string });
  t.ok(before.every((entry) => entry.level !== 'info'), 'LogLevel warn: no info lines (not even "serving on")');
  t.equal(printed, '', 'nothing on stdout or stderr');
  await rename(logFile, `${logFile}.1`);
  await writeFile(conf, `MaxProcesses 64\n${base}`);
  child.kill('SIGHUP');
  await waitFor(async () => (await read(logFile)).some((line) => line.includes('needs a restart')), 20_000, 'the reload warning in a new file');
  const after = (await read(logFile)).map((line) => JSON.parse(line) as { level: string; message: string });
  t.match(after.map((entry) => entry.message).join('\n'), /MaxProcesses 256 -> 64: needs a restart/);
  t.notMatch((await read(`${logFile}.1`)).join('\n'), /needs a restart/, 'the rotated file gets nothing more');
});
