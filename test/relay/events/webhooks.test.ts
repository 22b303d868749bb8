import { createHmac } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import t from 'tap';
import { ControllableCamera, makeJpegFrames, registryWith } from '../../helpers/controllable-camera.ts';
import { fetchBytes, waitFor } from '../../helpers/probe.ts';
import { unusedPort } from '../../helpers/ports.ts';
import { startTestRelay } from '../../helpers/relay.ts';
import { startWebhookReceiver } from '../../helpers/webhook-receiver.ts';
import type { AlertsStatus } from '../../../relay/events/alerts.ts';

const SECRET = 'a-webhook-secret-of-at-least-32-characters';
const STAT = '<Stream stat.html>\n  Format status\n</Stream>\n';
const FRAMES = makeJpegFrames(5);

/** A relay with one steerable camera `cam` (no ffmpeg behind it) and the given global lines. */
async function relayWithCamera(globals: string, camera = new ControllableCamera(FRAMES, 10)) {
  return startTestRelay(`${globals}\n<Camera cam>\n  Source ctl://cam\n</Camera>\n${STAT}`, { adapters: registryWith({ cam: camera }) });
}

async function alertsStatus(baseUrl: string): Promise<AlertsStatus> {
  return (JSON.parse((await fetchBytes(`${baseUrl}/stat.json`)).body.toString()) as { events: AlertsStatus }).events;
}

t.test('a camera going down and coming back is POSTed as retrying then recovered, signed with OnEventSecret', async (t) => {
  const receiver = await startWebhookReceiver();
  const camera = new ControllableCamera(FRAMES, 10);
  const relay = await relayWithCamera(`OnEvent ${receiver.url}\nOnEventSecret ${SECRET}`, camera);
  t.teardown(async () => {
    await relay.stop();
    await receiver.close();
  });
  const types = (): string[] => receiver.hooks.map((hook) => (JSON.parse(hook.body) as { type: string }).type);
  await waitFor(() => types().includes('camera.live'), 10_000, 'camera.live');
  camera.setMode('down');
  await waitFor(() => types().includes('camera.retrying'), 10_000, 'camera.retrying');
  camera.setMode('up');
  await waitFor(() => types().includes('camera.recovered'), 10_000, 'camera.recovered');
  t.same(types(), ['camera.live', 'camera.retrying', 'camera.recovered'], 'in the order they happened, once each');
  const [, down, back] = receiver.hooks.map((hook) => ({ ...hook, event: JSON.parse(hook.body) as Record<string, unknown> }));
  t.match(down!.event, { type: 'camera.retrying', subject: 'cam', message: /died: CLOSED: camera closed the connection; retrying in/, suppressed: 0 });
  t.match(back!.event, { type: 'camera.recovered', subject: 'cam', message: /back after [\d.]+ s down/ });
  t.ok(Date.parse(String(back!.event.time)) >= Date.parse(String(down!.event.time)));
  for (const hook of receiver.hooks) {
    t.equal(hook.headers['content-type'], 'application/json');
    t.equal(hook.headers['x-relay-event'], (JSON.parse(hook.body) as { type: string }).type);
    t.equal(hook.headers['x-relay-signature'], `sha256=${createHmac('sha256', SECRET).update(hook.body).digest('hex')}`, 'the signature verifies');
  }
  const forged = `${down!.body.slice(0, -1)} }`;
  t.not(down!.headers['x-relay-signature'], `sha256=${createHmac('sha256', SECRET).update(forged).digest('hex')}`, 'a changed body does not');
  const status = await alertsStatus(relay.baseUrl);
  t.match(status, { emitted: 3, suppressed: 0, targets: [{ kind: 'webhook', target: receiver.url, delivered: 3, failed: 0, queued: 0 }] });
  t.same(status.recent.map((record) => [record.event, record.ok, record.attempts]), [['camera.recovered', true, 1], ['camera.retrying', true, 1], ['camera.live', true, 1]]);
  t.notMatch(JSON.stringify(status), SECRET, 'the secret is never shown');
});

t.test('a receiver that is down is retried OnEventRetries times, then the failure shows on /stat.json and /stat.html', async (t) => {
  const port = await unusedPort();
  const relay = await relayWithCamera(`OnEvent http://127.0.0.1:${port}/hook?token=hidden\nOnEventRetries 2`);
  t.teardown(() => relay.stop());
  await waitFor(async () => (await alertsStatus(relay.baseUrl)).targets[0]?.failed === 1, 20_000, 'a failed delivery');
  const status = await alertsStatus(relay.baseUrl);
  t.match(status.targets[0], { target: `http://127.0.0.1:${port}/hook`, delivered: 0, failed: 1, last: { event: 'camera.live', subject: 'cam', ok: false, attempts: 3, error: 'ECONNREFUSED' } });
  const page = (await fetchBytes(`${relay.baseUrl}/stat.html`)).body.toString();
  t.match(page, /<h2>Alerts<\/h2>/);
  t.match(page, /<td>camera\.live<\/td><td>cam<\/td><td>http:\/\/127\.0\.0\.1:\d+\/hook<\/td>\s*<td>failed<\/td><td>3<\/td><td class="error">ECONNREFUSED<\/td>/);
  t.notMatch(page, /token=hidden/, 'a query string (which may hold a token) is not shown');
  t.equal(relay.logs.filter((line) => /warn .*camera\.live cam: not delivered to http:\/\/127\.0\.0\.1:\d+\/hook after 3 attempt\(s\): ECONNREFUSED/.test(line)).length, 1);
});

t.test('a receiver that never answers is given up on after OnEventTimeout', async (t) => {
  const receiver = await startWebhookReceiver('hang');
  const relay = await relayWithCamera(`OnEvent ${receiver.url}\nOnEventTimeout 300ms\nOnEventRetries 1`);
  t.teardown(async () => {
    await relay.stop();
    await receiver.close();
  });
  await waitFor(async () => (await alertsStatus(relay.baseUrl)).targets[0]?.failed === 1, 20_000, 'a failed delivery');
  const status = await alertsStatus(relay.baseUrl);
  t.match(status.targets[0]!.last, { ok: false, attempts: 2, error: 'no answer within 0.3 s' });
  t.equal(receiver.hooks.length, 2, 'the request arrived twice: first try and one retry');
  const gap = receiver.hooks[1]!.at - receiver.hooks[0]!.at;
  t.ok(gap >= 1200 && gap < 5000, `the retry came after the 0.3 s timeout and the 1 s pause (${gap} ms)`);
});

t.test('an encoder killed under its stream is POSTed as stream.retrying then stream.recovered, naming the stream', async (t) => {
  const receiver = await startWebhookReceiver();
  const relay = await startTestRelay(`OnEvent ${receiver.url}\n<Camera cam>\n  Source ctl://cam\n</Camera>\n<Stream cam.flv>\n  Feed cam\n  VideoSize 320x240\n  VideoBitRate 200\n</Stream>\n`,
    { adapters: registryWith({ cam: new ControllableCamera(FRAMES, 10) }) });
  t.teardown(async () => {
    await relay.stop();
    await receiver.close();
  });
  const encoder = (): { pid: number | undefined; track: unknown } => [...relay.relay.encoders.values()][0]!.encoder;
  await waitFor(() => encoder().pid !== undefined && encoder().track !== undefined, 20_000, 'the encoder producing');
  process.kill(encoder().pid!, 'SIGKILL');
  const events = (): Array<{ type: string; subject: string; message: string }> => receiver.hooks.map((hook) => JSON.parse(hook.body));
  await waitFor(() => events().some((event) => event.type === 'stream.recovered'), 20_000, 'stream.recovered');
  const streamEvents = events().filter((event) => event.type.startsWith('stream.'));
  t.same(streamEvents.map((event) => [event.type, event.subject]), [['stream.retrying', 'cam.flv'], ['stream.recovered', 'cam.flv']]);
  t.match(streamEvents[0]!.message, /^encoder cam#1: died: /);
});

t.test('a reload that changes OnEvent sends the next events to the new receiver only', async (t) => {
  const [first, second] = await Promise.all([startWebhookReceiver(), startWebhookReceiver()]);
  const camera = new ControllableCamera(FRAMES, 10);
  const relay = await relayWithCamera(`OnEvent ${first.url}`, camera);
  t.teardown(async () => {
    await relay.stop();
    await Promise.all([first.close(), second.close()]);
  });
  await waitFor(() => first.hooks.length === 1, 10_000, 'camera.live at the first receiver');
  await writeFile(relay.configFile, (await readFile(relay.configFile, 'utf8')).replace(first.url, second.url));
  await relay.reload();
  camera.setMode('down');
  await waitFor(() => second.hooks.length === 1, 10_000, 'camera.retrying at the second receiver');
  t.equal((JSON.parse(second.hooks[0]!.body) as { type: string }).type, 'camera.retrying');
  t.equal(first.hooks.length, 1, 'nothing more to the first');
  t.same((await alertsStatus(relay.baseUrl)).targets.map((target) => target.target), [second.url], 'the old target left /stat.json');
});
