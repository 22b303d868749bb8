import PQueue from 'p-queue';
import t from 'tap';
import { DEFAULT_BACKOFF } from '../../lib/backoff.ts';
import { createLogger } from '../../lib/log.ts';
import { Supervisor } from '../../relay/core/supervisor.ts';
import { parseConfig } from '../../conf/parse.ts';
import { waitFor } from '../helpers/probe.ts';
import { unusedPort } from '../helpers/ports.ts';
import { startTestRelay } from '../helpers/relay.ts';

// Guards: a camera down for a minute printed one warning per retry; an outage is one warning, then info until it is back.
t.test('one warning per outage: retries are info, recovery is info, the next outage warns again', async (t) => {
  const lines: string[] = [];
  let runs = 0;
  let release: (() => void) | undefined;
  const supervisor = new Supervisor({
    name: 'cam',
    startQueue: new PQueue({ concurrency: 2 }),
    log: createLogger('cam', (line) => lines.push(line)),
    backoff: { ...DEFAULT_BACKOFF, initialMs: 5, fastCapMs: 10, fastAttempts: 2, maxMs: 20, jitter: 0, resetAfterMs: 1 },
    task: async (signal, live) => {
      runs++;
      if (runs <= 5 || runs === 7) throw new Error('connection refused');
      live();
      if (runs === 6) throw new Error('camera closed');
      await new Promise<void>((resolve) => {
        release = resolve;
        signal.addEventListener('abort', () => resolve());
      });
    },
  });
  supervisor.start();
  await waitFor(() => runs === 8 && supervisor.state === 'live', 5000, 'two outages and a recovery');
  release?.();
  await supervisor.stop();
  const warns = lines.filter((line) => / warn  cam: /.test(line));
  t.equal(warns.length, 2, warns.join('\n'));
  t.match(warns[0], /failed to start: connection refused; retrying in 0\.0 s \(further retries of this outage are logged as info\)/);
  t.match(warns[1], /died: camera closed; retrying/);
  t.equal(lines.filter((line) => / info  cam: still down after [\d.]+ s, attempt \d+: failed to start: connection refused/.test(line)).length, 5, 'attempts 2-5 of the first outage, 2 of the second');
  t.equal(lines.filter((line) => / info  cam: back after [\d.]+ s down \(5 failed attempt\(s\)\)/.test(line)).length, 1);
  t.equal(lines.filter((line) => / info  cam: back after [\d.]+ s down \(2 failed attempt\(s\)\)/.test(line)).length, 1);
});

t.test('RetryMaxDelay (global, per camera) and RetryResetAfter reach the camera config', async (t) => {
  const { config } = parseConfig('RetryMaxDelay 20s\nRetryResetAfter 1m\n<Camera a>\n Source testsrc://\n</Camera>\n<Camera b>\n Source testsrc://\n RetryMaxDelay 5\n</Camera>\n',
    'relay.conf', { schemes: ['testsrc'] });
  t.same(config.cameras.map((c) => [c.retryMaxDelayMs, c.retryResetAfterMs]), [[20_000, 60_000], [5_000, 60_000]]);
  const defaults = parseConfig('<Camera a>\n Source testsrc://\n</Camera>\n', 'relay.conf', { schemes: ['testsrc'] }).config.cameras[0]!;
  t.same([defaults.retryMaxDelayMs, defaults.retryResetAfterMs], [60_000, 30_000]);
});

// Guards: reconnect delays grew to 60 s with no way to cap them; RetryMaxDelay 0.3 keeps every retry of a dead camera within 0.3 s.
t.test('a camera that stays down retries no slower than its RetryMaxDelay, and warns once', async (t) => {
  const port = await unusedPort();
  const relay = await startTestRelay(`<Camera dead>\n  Source http://127.0.0.1:${port}/video.mjpg\n  RetryMaxDelay 300ms\n</Camera>\n`);
  t.teardown(() => relay.stop());
  // Without the cap the second to fifth retries wait 0.5 s, then 1 s each.
  await waitFor(() => relay.logs.filter((line) => /camera dead: still down/.test(line)).length >= 5, 20_000, 'six attempts');
  const delays = relay.logs.map((line) => /camera dead: .*retrying in ([\d.]+) s/.exec(line)?.[1]).filter((d): d is string => d !== undefined).map(Number);
  t.ok(delays.length >= 6);
  t.ok(delays.every((delay) => delay <= 0.3), `every delay within 0.3 s: ${delays.join(', ')}`);
  t.equal(relay.logs.filter((line) => / warn  relay\/camera dead: /.test(line)).length, 1, 'one warning for the whole outage');
});
