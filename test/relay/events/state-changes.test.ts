import { execFileSync } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import PQueue from 'p-queue';
import t from 'tap';
import { DEFAULT_BACKOFF } from '../../../lib/backoff.ts';
import { EventBus, type RelayEvent } from '../../../lib/event-bus.ts';
import { silentLogger } from '../../../lib/log.ts';
import { parseConfig } from '../../../conf/parse.ts';
import { Supervisor } from '../../../relay/core/supervisor.ts';
import { CameraRecorder } from '../../../relay/recording/recorder.ts';
import { Retention } from '../../../relay/recording/retention.ts';
import { SegmentIndex } from '../../../relay/recording/segment-index.ts';
import { watchCertificate } from '../../../relay/events/certificate.ts';
import { waitFor } from '../../helpers/probe.ts';
import { gatedSource, tempDir } from '../recording/fixtures.ts';

function collect(): { bus: EventBus; events: RelayEvent[] } {
  const bus = new EventBus();
  const events: RelayEvent[] = [];
  bus.subscribe((event) => events.push(event));
  return { bus, events };
}

t.test('a supervisor reports live, an outage once, failed once it lasts failedAfterMs, and recovered', async (t) => {
  const changes: Array<[string, string]> = [];
  let failing = false;
  let runs = 0;
  const supervisor = new Supervisor({
    name: 'cam',
    startQueue: new PQueue({ concurrency: 1 }),
    log: silentLogger,
    backoff: { ...DEFAULT_BACKOFF, initialMs: 20, fastCapMs: 20, maxMs: 20, jitter: 0 },
    failedAfterMs: 300,
    onChange: (change, message) => changes.push([change, message]),
    task: async (signal, live) => {
      runs++;
      if (failing) throw new Error('connection refused');
      live();
      if (runs === 1) {
        failing = true;
        throw new Error('camera closed');
      }
      await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve()));
    },
  });
  supervisor.start();
  await waitFor(() => changes.some(([change]) => change === 'failed'), 5000, 'failed');
  failing = false;
  await waitFor(() => changes.some(([change]) => change === 'recovered'), 5000, 'recovered');
  await supervisor.stop();
  t.same(changes.map(([change]) => change), ['live', 'retrying', 'failed', 'recovered'], `one of each, in order, over ${runs} runs`);
  t.match(changes[1]![1], /^died: camera closed; retrying in/);
  t.match(changes[2]![1], /^still down after [\d.]+ s, attempt \d+: failed to start: connection refused/);
  t.match(changes[3]![1], /^back after [\d.]+ s down/);
});

t.test('OnEventFailedAfter reaches every camera through the relay config', async (t) => {
  const { config } = parseConfig('OnEventFailedAfter 2m\n<Camera a>\n Source testsrc://\n</Camera>\n', 'relay.conf', { schemes: ['testsrc'] });
  t.equal(config.events.failedAfterMs, 120_000);
});

t.test('retention reports disk.low once when free space falls below RecordMinFreeSpace, and again after it recovered', async (t) => {
  const { dir, cleanup } = await tempDir('relay-events-');
  t.teardown(cleanup);
  let free = 10_000;
  const retention = new Retention(new SegmentIndex(dir), { cameras: new Map(), maxTotalBytes: 0, minFreeBytes: 5_000 }, silentLogger, () => free);
  const { bus, events } = collect();
  retention.events = bus;
  retention.run();
  t.equal(events.length, 0, 'enough space: nothing');
  free = 4_000;
  retention.run();
  retention.run();
  t.same(events.map((event) => [event.type, event.subject]), [['disk.low', dir]], 'once while it lasts');
  t.match(events[0]!.message, /4000 bytes free, below RecordMinFreeSpace 5000/);
  free = 6_000;
  retention.run();
  free = 1_000;
  retention.run();
  t.equal(events.length, 2, 'a new episode is a new event');
});

t.test('a TLS certificate within 14 days of its end is reported certificate.expiring, once; a fresh one is not', async (t) => {
  const { dir, cleanup } = await tempDir('relay-cert-');
  t.teardown(cleanup);
  const make = (name: string, days: number): string => {
    const cert = join(dir, `${name}.pem`);
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', String(days),
      '-subj', '/CN=localhost', '-keyout', join(dir, `${name}.key`), '-out', cert], { stdio: 'ignore' });
    return cert;
  };
  const fresh = make('fresh', 90);
  const ending = make('ending', 5);
  const security = { httpsPort: 8443, certificateFile: fresh } as unknown as import('../../../conf/security.ts').SecurityConfig;
  let current = security;
  const { bus, events } = collect();
  const watch = watchCertificate(() => current, bus, silentLogger);
  t.teardown(() => watch.close());
  await watch.check();
  t.equal(events.length, 0, 'a certificate with 90 days left');
  current = { ...security, certificateFile: ending };
  await watch.check();
  await watch.check();
  t.same(events.map((event) => [event.type, event.subject]), [['certificate.expiring', ending]]);
  t.match(events[0]!.message, /^the TLS certificate expires in (4\.\d|5\.0) days$/);
});

t.test('a recorder reports recording.stopped when writing fails and recording.resumed when it writes again', async (t) => {
  const { dir, cleanup } = await tempDir('relay-events-rec-');
  const { hub, source } = gatedSource({ rate: 10, gop: 10 });
  const index = new SegmentIndex(dir);
  const { bus, events } = collect();
  const recorder = new CameraRecorder({ camera: 'cam', segmentSeconds: 60, source: hub, index, log: silentLogger, events: bus });
  recorder.start();
  t.teardown(async () => {
    await recorder.stop();
    source.stop();
    await cleanup();
  });
  await waitFor(() => (index.segments('cam')[0]?.bytes ?? 0) > 0, 15_000, 'a segment on disk');
  t.equal(events.length, 0);
  await rm(join(dir, 'cam'), { recursive: true, force: true });
  await waitFor(() => events.some((event) => event.type === 'recording.resumed'), 20_000, 'recording again');
  const types = events.map((event) => event.type);
  t.same(types, ['recording.stopped', 'recording.resumed']);
  t.match(events[0], { subject: 'cam', message: /disappeared while being written/ });
});
