import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from './probe.ts';

export const relayBin = new URL('../../relay/bin.mjs', import.meta.url).pathname;

/** The relay as its own process, the way an operator runs it, with everything it prints. */
export interface RelayProcess {
  child: ChildProcess;
  output: () => string;
  port: () => number;
  exited: Promise<number | null>;
}

/** Writes relay.conf text (HTTPPort 0 in front) to a temporary file. */
export async function configFile(text: string): Promise<string> {
  const file = join(await mkdtemp(join(tmpdir(), 'relay-cli-')), 'relay.conf');
  await writeFile(file, `HTTPPort 0\n${text}`);
  return file;
}

/** Relays started by this test file and not yet exited: killed when the file ends, whatever failed on the way. */
const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** Starts `relay -c file` and waits (up to `listenTimeoutMs`) until it listens; a relay that does not is killed. */
export async function runRelay(file: string, listenTimeoutMs = 15_000): Promise<RelayProcess> {
  const child = spawn(process.execPath, [relayBin, '-c', file], { stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => {
    running.delete(child);
    resolve(code);
  }));
  try {
    await waitFor(() => /serving on http:\/\/127\.0\.0\.1:\d+/.test(output), listenTimeoutMs, `the relay to listen:\n${output}`);
  } catch (error) {
    // Guards: a relay slow to listen on a loaded machine outlived its failed test file and kept running.
    child.kill('SIGKILL');
    throw error;
  }
  const port = Number(/serving on http:\/\/127\.0\.0\.1:(\d+)/.exec(output)![1]);
  return { child, output: () => output, port: () => port, exited };
}
