import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { sleep } from './clock.ts';

/** Clock ticks per second of /proc/PID/stat times (USER_HZ: 100 on Linux for every architecture the bench runs on). */
const TICKS_PER_SECOND = 100;
const spawned = new Set<ChildProcess>();

/** A free TCP port on 127.0.0.1 (bound on port 0, then released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/**
 * Spawns a process in its own process group, remembered so that killAll() can end it and its children
 * (a relay's or a floor's ffmpeg) whatever way the bench exits.
 */
export function spawnTracked(command: string, args: string[], options: SpawnOptions = {}): ChildProcess {
  const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'], ...options, detached: true });
  spawned.add(child);
  child.once('exit', () => spawned.delete(child));
  return child;
}

/** SIGTERM to a tracked process group, SIGKILL after graceMs if it is still there. */
export async function stopTracked(child: ChildProcess, graceMs = 3000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  signalGroup(child.pid, 'SIGTERM');
  const timedOut = await Promise.race([exited.then(() => false), sleep(graceMs).then(() => true)]);
  // The group may still hold a grandchild (ffmpeg) after its parent exited.
  signalGroup(child.pid, 'SIGKILL');
  if (timedOut) await Promise.race([exited, sleep(1000)]);
}

/** Kills every process group the bench started; synchronous, so it can run in an 'exit' handler. */
export function killAll(): void {
  for (const child of spawned) if (child.pid !== undefined) signalGroup(child.pid, 'SIGKILL');
  spawned.clear();
}

/**
 * Runs a bench's main and exits: 0 when it resolves, 1 with the error's stack when it throws, 130 on `exitSignals`;
 * every process the bench started is killed on the way out.
 */
export function runBench(main: () => Promise<void>, exitSignals: readonly NodeJS.Signals[] = []): void {
  process.on('exit', killAll);
  for (const signal of exitSignals) {
    process.on(signal, () => {
      killAll();
      process.exit(130);
    });
  }
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(`bench failed: ${(error as Error).stack ?? String(error)}\n`);
      killAll();
      process.exit(1);
    },
  );
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}

/** CPU seconds (user + system) a process has used so far; NaN when it is gone. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 14 and 15 of stat (utime, stime) are 11 and 12 after the command name and state.
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return NaN;
  }
}

/** Resident memory of a process in MiB; NaN when it is gone. */
export function rssMiB(pid: number): number {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'latin1'));
    return match ? Number(match[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** The direct children of a process whose command name contains `name` (e.g. the relay's ffmpeg). */
export function childPids(pid: number, name: string): number[] {
  const found: number[] = [];
  let tasks: string[] = [];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return found;
  }
  for (const task of tasks) {
    let children = '';
    try {
      children = readFileSync(`/proc/${pid}/task/${task}/children`, 'latin1');
    } catch {
      continue;
    }
    for (const child of children.trim().split(/\s+/).filter(Boolean).map(Number)) {
      try {
        if (readFileSync(`/proc/${child}/comm`, 'latin1').includes(name)) found.push(child);
      } catch {
        // Exited meanwhile.
      }
    }
  }
  return found;
}

/** The soft limit on open files of this process (the load generator's workers inherit it). */
export function openFileLimit(): number {
  const match = /Max open files\s+(\d+|unlimited)/.exec(readFileSync('/proc/self/limits', 'latin1'));
  return !match || match[1] === 'unlimited' ? Infinity : Number(match[1]);
}
