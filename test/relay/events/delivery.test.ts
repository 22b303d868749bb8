import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import PQueue from 'p-queue';
import t from 'tap';
import type { EventsConfig } from '../../../conf/events.ts';
import { DEFAULT_BACKOFF } from '../../../lib/backoff.ts';
import { EventBus } from '../../../lib/event-bus.ts';
import { createLogger, silentLogger } from '../../../lib/log.ts';
import { Supervisor } from '../../../relay/core/supervisor.ts';
import { Alerts } from '../../../relay/events/alerts.ts';
import { EventRateLimit } from '../../../relay/events/rate-limit.ts';
import { waitFor } from '../../helpers/probe.ts';
import { startWebhookReceiver } from '../../helpers/webhook-receiver.ts';
import { tempDir } from '../recording/fixtures.ts';

function eventsConfig(overrides: Partial<EventsConfig>): EventsConfig {
  return { urls: [], secret: undefined, exec: undefined, timeoutMs: 5000, retries: 0, ratePerMinute: 30, failedAfterMs: 60_000, ...overrides };
}

t.test('OnEventExec runs the program without a shell: the event JSON on stdin and in RELAY_EVENT, no relay environment', async (t) => {
  const { dir, cleanup } = await tempDir('relay-exec-');
  t.teardown(cleanup);
  const script = join(dir, 'hook.sh');
  await writeFile(script, '#!/bin/sh\ncat > "$1/stdin.json"\nprintf %s "$RELAY_EVENT" > "$1/env.json"\nprintf "%s|%s|%s" "$RELAY_EVENT_TYPE" "$RELAY_EVENT_SUBJECT" "$RELAY_SECRET_OF_THE_PARENT" > "$1/vars"\nprintf %s "$2" > "$1/arg"\n');
  await chmod(script, 0o755);
  process.env.RELAY_SECRET_OF_THE_PARENT = 'must-not-leak';
  t.teardown(() => delete process.env.RELAY_SECRET_OF_THE_PARENT);
  const bus = new EventBus();
  const alerts = new Alerts(bus, () => eventsConfig({ exec: [script, dir, 'two words; $(touch pwned)'] }), silentLogger);
  t.teardown(() => alerts.close());
  bus.emit('camera.retrying', 'door', 'died: CLOSED: camera closed the connection; retrying in 0.3 s');
  await waitFor(() => alerts.status().targets[0]?.delivered === 1, 10_000, 'delivered');
  const stdin = JSON.parse(await readFile(join(dir, 'stdin.json'), 'utf8')) as Record<string, unknown>;
  t.match(stdin, { type: 'camera.retrying', subject: 'door', message: /camera closed the connection/, suppressed: 0 });
  t.same(JSON.parse(await readFile(join(dir, 'env.json'), 'utf8')), stdin, 'the same JSON in RELAY_EVENT');
  t.equal(await readFile(join(dir, 'vars'), 'utf8'), 'camera.retrying|door|', 'type and subject set; the relay\'s environment is not passed on');
  t.equal(await readFile(join(dir, 'arg'), 'utf8'), 'two words; $(touch pwned)', 'an argument is passed as one value, never interpreted');
  t.match(alerts.status().targets[0], { kind: 'exec', target: script, delivered: 1, failed: 0 });
});

t.test('a command that fails or hangs is a failed delivery with its exit status, stderr line or timeout', async (t) => {
  const { dir, cleanup } = await tempDir('relay-exec-');
  t.teardown(cleanup);
  const failing = join(dir, 'fail.sh');
  await writeFile(failing, '#!/bin/sh\necho "receiver said no" >&2\nexit 3\n');
  const hanging = join(dir, 'hang.sh');
  await writeFile(hanging, '#!/bin/sh\nexec sleep 30\n');
  await Promise.all([chmod(failing, 0o755), chmod(hanging, 0o755)]);
  let exec = [failing];
  const bus = new EventBus();
  const alerts = new Alerts(bus, () => eventsConfig({ exec, timeoutMs: 300, retries: 1 }), silentLogger);
  t.teardown(() => alerts.close());
  bus.emit('recording.stopped', 'door', 'writing failed');
  await waitFor(() => alerts.status().targets[0]?.failed === 1, 10_000, 'failed');
  t.match(alerts.status().targets[0]!.last, { ok: false, attempts: 2, error: 'exit status 3: receiver said no' });
  exec = [hanging];
  const started = Date.now();
  bus.emit('recording.stopped', 'door', 'writing failed');
  await waitFor(() => alerts.status().targets.find((target) => target.target === hanging)?.failed === 1, 10_000, 'timed out');
  t.match(alerts.status().targets.find((target) => target.target === hanging)!.last, { ok: false, attempts: 2, error: 'no exit within 0.3 s' });
  t.ok(Date.now() - started < 5000, 'the hanging command was killed, not waited for');
});

// A flapping camera: every run goes live and dies at once, so each cycle is a state change.
t.test('a flood of state changes is rate-limited to OnEventRateLimit per minute; the rest are counted', async (t) => {
  const receiver = await startWebhookReceiver();
  t.teardown(() => receiver.close());
  const bus = new EventBus();
  const lines: string[] = [];
  const alerts = new Alerts(bus, () => eventsConfig({ urls: [receiver.url], ratePerMinute: 10 }), createLogger('events', (line) => lines.push(line)));
  t.teardown(() => alerts.close());
  let runs = 0;
  const supervisor = new Supervisor({
    name: 'flappy',
    startQueue: new PQueue({ concurrency: 1 }),
    log: silentLogger,
    backoff: { ...DEFAULT_BACKOFF, initialMs: 1, fastCapMs: 1, maxMs: 1, jitter: 0, resetAfterMs: 1 },
    onChange: (change, message) => bus.emit(`camera.${change}`, 'flappy', message),
    task: async (_signal, live) => {
      runs++;
      live();
      await new Promise((resolve) => setTimeout(resolve, 2));
      throw new Error('camera closed');
    },
  });
  supervisor.start();
  await waitFor(() => alerts.status().emitted >= 200, 20_000, '200 state changes');
  await supervisor.stop();
  await waitFor(() => alerts.status().targets[0]!.queued === 0, 10_000, 'the admitted ones delivered');
  const { emitted, suppressed, targets } = alerts.status();
  t.ok(receiver.hooks.length >= 10 && receiver.hooks.length <= 11, `${receiver.hooks.length} of ${emitted} sent (${runs} runs)`);
  t.equal(suppressed, emitted - receiver.hooks.length, 'every other one counted as held back');
  t.equal(targets[0]!.delivered, receiver.hooks.length);
  t.ok(lines.length <= 11, 'and not logged one by one');
});

t.test('the rate limit refills over the minute and tells the next event how many were held back', async (t) => {
  const limit = new EventRateLimit();
  const admitted = Array.from({ length: 15 }, () => limit.admit(0, 10));
  t.same(admitted, [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, undefined, undefined, undefined, undefined, undefined]);
  t.equal(limit.admit(5_999, 10), undefined, 'less than one event\'s share of the minute later');
  t.equal(limit.admit(6_001, 10), 6, 'one share later: sent, with the six held back');
  t.equal(limit.suppressedTotal, 6);
});
