import t from 'tap';
import PQueue from 'p-queue';
import { backoffDelay, DEFAULT_BACKOFF, type BackoffOptions } from '../../lib/backoff.ts';
import { silentLogger } from '../../lib/log.ts';
import { Supervisor, type SupervisedTask } from '../../relay/core/supervisor.ts';
import { waitFor } from '../helpers/probe.ts';

const FAST: BackoffOptions = { ...DEFAULT_BACKOFF, initialMs: 10, fastCapMs: 20, fastAttempts: 2, maxMs: 50, jitter: 0 };

t.test('backoff: fast retries for a blip, then doubling to a one-minute cap', async (t) => {
  const delays = Array.from({ length: 16 }, (_, attempt) => backoffDelay(DEFAULT_BACKOFF, attempt, () => 0.5));
  t.same(delays, [250, 500, 1000, 1000, 1000, 1000, 1000, 1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000, 60000]);
  const jittered = Array.from({ length: 1000 }, () => backoffDelay(DEFAULT_BACKOFF, 10));
  t.ok(Math.min(...jittered) >= 6400 && Math.max(...jittered) <= 9600, 'jitter stays within +/- 20%');
  t.ok(new Set(jittered).size > 100, 'and actually spreads restarts');
});

function supervisor(task: SupervisedTask, queue = new PQueue({ concurrency: 8 })): Supervisor {
  return new Supervisor({ name: 'x', task, startQueue: queue, log: silentLogger, backoff: FAST });
}

t.test('a task that fails before going live is "failed to start" and is retried', async (t) => {
  let runs = 0;
  const s = supervisor(async () => {
    runs++;
    throw new Error('refused');
  });
  s.start();
  await waitFor(() => runs >= 3, 2000, 'three attempts');
  t.equal(s.lastError?.phase, 'start');
  t.equal(s.lastError?.message, 'refused');
  t.ok(s.restarts >= 2);
  await s.stop();
  t.equal(s.state, 'stopped');
});

t.test('a task that dies after going live is "died", with its error; stop is not an error', async (t) => {
  let runs = 0;
  const s = supervisor(async (signal, live) => {
    runs++;
    live();
    if (runs === 1) throw new Error('camera closed');
    await new Promise((resolve) => signal.addEventListener('abort', resolve));
  });
  s.start();
  await waitFor(() => runs === 2 && s.state === 'live', 2000, 'the second run to be live');
  t.equal(s.lastError?.phase, 'run');
  t.equal(s.restarts, 1);
  await s.stop();
  await s.stop(); // twice is safe
  t.equal(s.restarts, 1, 'stopping did not count as a failure');
  t.equal(s.lastError?.message, 'camera closed');
});

t.test('starts go through the queue: 20 supervisors never start more than 2 at once', async (t) => {
  const queue = new PQueue({ concurrency: 2 });
  let starting = 0;
  let maxStarting = 0;
  const all = Array.from({ length: 20 }, () =>
    supervisor(async (signal, live) => {
      starting++;
      maxStarting = Math.max(maxStarting, starting);
      await new Promise((resolve) => setTimeout(resolve, 20));
      starting--;
      live();
      await new Promise((resolve) => signal.addEventListener('abort', resolve));
    }, queue),
  );
  for (const s of all) s.start();
  await waitFor(() => all.every((s) => s.state === 'live'), 5000, 'all live');
  t.equal(maxStarting, 2);
  await Promise.all(all.map((s) => s.stop()));
});

t.test('a run that ends without error while not stopped is a failure too', async (t) => {
  let runs = 0;
  const s = supervisor(async (_signal, live) => {
    runs++;
    live();
  });
  s.start();
  await waitFor(() => runs >= 2, 2000, 'a retry');
  t.equal(s.lastError?.message, 'ended without an error');
  await s.stop();
});
