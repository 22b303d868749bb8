import t from 'tap';
import { ProcessSlots } from '../../lib/process-slots.ts';
import { StderrTail } from '../../lib/stderr-tail.ts';
import { runToEnd, spawnProcess, startProcess, type RunOptions } from '../../lib/ffmpeg-runner.ts';

const sh = (script: string, extra: Partial<RunOptions> = {}, signal = new AbortController().signal): RunOptions => ({
  command: '/bin/sh', args: ['-c', script], signal, ...extra,
});

t.test('an abort without a grace period kills at once', async (t) => {
  const stop = new AbortController();
  const run = spawnProcess(sh('exec sleep 30', {}, stop.signal));
  t.type(run.pid, 'number');
  const started = Date.now();
  stop.abort();
  const exit = await run.exit;
  t.equal(exit.signal, 'SIGKILL');
  t.equal(exit.aborted, true);
  t.equal(exit.how, 'exited with SIGKILL');
  t.ok(Date.now() - started < 5_000, 'gone well before sleep would end');
});

t.test('a process that ignores SIGTERM is killed when the grace period ends', async (t) => {
  const stop = new AbortController();
  // exec keeps the ignored SIGTERM: sleep itself shrugs it off.
  const run = spawnProcess(sh('trap "" TERM; echo ready; exec sleep 30', { graceMs: 700 }, stop.signal));
  await new Promise((resolve) => run.stdout.once('data', resolve));
  const started = Date.now();
  stop.abort();
  let exited = false;
  void run.exit.then(() => (exited = true));
  await new Promise((resolve) => setTimeout(resolve, 300));
  t.equal(exited, false, 'still running inside the grace period: SIGTERM was ignored');
  const exit = await run.exit;
  t.equal(exit.signal, 'SIGKILL', 'then killed');
  t.ok(Date.now() - started >= 650, `not before the grace period (${Date.now() - started} ms)`);
});

t.test('a process that finishes on the end of stdin does not wait for the grace period', async (t) => {
  const stop = new AbortController();
  const run = spawnProcess({ command: 'cat', args: [], signal: stop.signal, stdinBudget: 1024, graceMs: 20_000, stopSignal: null });
  const started = Date.now();
  stop.abort();
  const exit = await run.exit;
  t.equal(exit.code, 0, 'cat saw the end of its input');
  t.equal(exit.aborted, true);
  t.ok(Date.now() - started < 10_000);
});

t.test('the stderr tail stays bounded however much is written', async (t) => {
  const stderr = new StderrTail(5, 40);
  const script = `i=0; while [ $i -lt 2000 ]; do echo "line $i $(printf '%0100d' 0)" >&2; i=$((i+1)); done; exit 3`;
  const run = spawnProcess(sh(script, { stderr }));
  const exit = await run.exit;
  t.equal(exit.code, 3);
  t.equal(exit.how, 'exited with code 3');
  const lines = stderr.text.split('\n');
  t.equal(lines.length, 5, 'five lines kept of 2000');
  t.ok(lines.every((line) => line.length <= 41), 'each line cut to its bound');
  t.match(stderr.lastLine, /^line 1999 /, 'the newest line is last');
});

t.test('stdin refuses writes past its byte budget instead of buffering them', async (t) => {
  const stop = new AbortController();
  const budget = 256 * 1024;
  // sleep never reads: the pipe fills, then the relay's side would queue without a budget.
  const run = spawnProcess(sh('exec sleep 30', { stdinBudget: budget }, stop.signal));
  const chunk = Buffer.alloc(16 * 1024);
  let accepted = 0;
  let refused = 0;
  for (let i = 0; i < 1000; i++) (run.write(chunk) ? accepted++ : refused++);
  t.ok(refused > 0, `writes refused (${refused} of 1000)`);
  t.ok(run.stdinQueuedBytes <= budget, `queued ${run.stdinQueuedBytes} bytes, budget ${budget}`);
  // What the kernel's pipe took (64 KiB on Linux, up to 1 MiB where raised) plus the budget.
  t.ok(accepted * chunk.length <= budget + 1024 * 1024, `accepted ${accepted} chunks`);
  stop.abort();
  await run.exit;
  t.equal(run.write(chunk), false, 'a write after the end is refused');
  t.equal(run.stdinOpen, false);
});

t.test('the process slot is given back on every way out', async (t) => {
  const slots = new ProcessSlots(1);
  const normal = await startProcess(slots, sh('exit 0', {}));
  t.equal(slots.inUse, 1, 'held while running');
  t.equal((await normal!.exit).code, 0);
  t.equal(slots.inUse, 0, 'after a normal exit');

  const failing = await startProcess(slots, sh('exit 7'));
  t.equal((await failing!.exit).code, 7);
  t.equal(slots.inUse, 0, 'after a failure');

  const stop = new AbortController();
  const aborted = await startProcess(slots, sh('exec sleep 30', { graceMs: 200 }, stop.signal));
  const waiter = new AbortController();
  const queued = startProcess(slots, sh('exit 0', {}, waiter.signal));
  t.equal(slots.waiting, 1, 'a second start waits for the slot');
  waiter.abort();
  t.equal(await queued, undefined, 'an abort during the wait starts nothing');
  t.equal(slots.waiting, 0);
  stop.abort();
  await aborted!.exit;
  t.equal(slots.inUse, 0, 'after an abort');

  const missing = await startProcess(slots, { command: '/nonexistent/ffmpeg', args: [], signal: new AbortController().signal });
  await missing!.exit;
  t.equal(slots.inUse, 0, 'after a failed start');

  const killed = await startProcess(slots, sh('exec sleep 30'));
  killed!.kill();
  await killed!.exit;
  t.equal(slots.inUse, 0, 'after a kill');
});

t.test('a missing program gives a clear error, not a crash', async (t) => {
  const run = spawnProcess({ command: '/nonexistent/ffmpeg', args: ['-version'], signal: new AbortController().signal });
  const exit = await run.exit;
  t.equal(exit.how, 'could not start');
  t.match(exit.startError?.message, /ENOENT/);
  t.match(run.stderr.lastLine, /^relay: cannot run \/nonexistent\/ffmpeg: .*ENOENT/);
  t.equal(run.write(Buffer.from('x')), false);
});

t.test('a run past its timeout is killed and says so', async (t) => {
  const run = spawnProcess(sh('exec sleep 30', { timeoutMs: 200 }));
  const exit = await run.exit;
  t.equal(exit.signal, 'SIGKILL');
  t.equal(exit.aborted, false);
  t.match(run.stderr.lastLine, 'relay: killed after 0.2 s');
});

t.test('runToEnd collects stdout and kills a process that writes too much', async (t) => {
  const small = await runToEnd(sh('printf hello'), 1024);
  t.equal(small!.stdout.toString(), 'hello');
  t.equal(small!.exit.code, 0);
  const flood = await runToEnd(sh('exec cat /dev/zero'), 64 * 1024);
  t.equal(flood!.exit.signal, 'SIGKILL');
  t.ok(flood!.stdout.length <= 64 * 1024);
});
