import t from 'tap';
import { payloadBytes } from '../../helpers/sink.ts';
import { isCompleteJpeg } from '../../../media/jpeg/splitter.ts';
import { VbcAdapter } from '../../../adapters/vbc/client.ts';
import type { CameraConfig } from '../../../conf/types.ts';
import { makeCameraConfig } from '../../helpers/camera-config.ts';
import { makeCanonJpegs } from './canon-jpegs.ts';
import { BackgroundRun } from './run-helpers.ts';
import { VbcSimulator, type VbcFault, type VbcSimulatorOptions } from './simulator.ts';
import { unusedPort } from '../../helpers/ports.ts';

const jpegs = await makeCanonJpegs(4);
const READ_TIMEOUT_MS = 500;

/** A simulator with `fault`, and a run of a fresh adapter against it with short timeouts. */
async function faultyRun(
  t: { teardown(fn: () => Promise<void>): void },
  fault: VbcFault | undefined,
  extra: Partial<VbcSimulatorOptions> = {},
  config: Partial<CameraConfig> = {},
): Promise<{ camera: VbcSimulator; run: BackgroundRun; adapter: VbcAdapter }> {
  const camera = await VbcSimulator.start({ jpegs, fault, faultAfter: 3, ...extra });
  const adapter = new VbcAdapter(makeCameraConfig(camera.url, { readTimeoutMs: READ_TIMEOUT_MS, inputFrameRate: 20, ...config }));
  const run = new BackgroundRun(adapter);
  t.teardown(async () => {
    await run.stop();
    await camera.close();
  });
  return { camera, run, adapter };
}

t.test('connection refused is CONNECT', async (t) => {
  // Guards that a dead camera fails fast with CONNECT rather than hanging or crashing.
  const port = await unusedPort();
  const run = new BackgroundRun(new VbcAdapter(makeCameraConfig(`vbc://127.0.0.1:${port}`)));
  const error = await run.failure(3000);
  t.equal(error.code, 'CONNECT');
  t.match(error.message, /ECONNREFUSED/);
});

t.test('accepted then closed is CLOSED', async (t) => {
  // Guards that a camera hanging up during the text phase is reported as CLOSED, not as a timeout.
  const { run, camera } = await faultyRun(t, 'close-on-accept');
  t.equal((await run.failure(3000)).code, 'CLOSED');
  t.equal(camera.connections, 1);
  t.notOk(run.sink.connectedAt, 'never reported as connected');
});

t.test('a text reply with no NUL is PROTOCOL once 4 KiB are in', async (t) => {
  // Guards against buffering an endless text reply.
  const { run } = await faultyRun(t, 'version-without-nul', {}, { readTimeoutMs: 5000 });
  const error = await run.failure(3000);
  t.equal(error.code, 'PROTOCOL');
  t.match(error.message, /4096 bytes without a NUL/);
});

t.test('a camera that accepts and never speaks is TIMEOUT after readTimeoutMs', async (t) => {
  // Guards that the VERSION step is bounded by a timeout.
  const { run } = await faultyRun(t, 'silent');
  const error = await run.failure(3000);
  const elapsed = performance.now() - run.startedAt;
  t.equal(error.code, 'TIMEOUT');
  t.match(error.message, /VERSION/);
  t.ok(elapsed >= READ_TIMEOUT_MS - 20 && elapsed < READ_TIMEOUT_MS + 1000, `failed after ${elapsed.toFixed(0)} ms`);
});

t.test('no reply to the login lines is TIMEOUT', async (t) => {
  // Guards that the login step, not only the first, is bounded by a timeout.
  const { run, camera } = await faultyRun(t, 'no-login-reply');
  const error = await run.failure(3000);
  t.equal(error.code, 'TIMEOUT');
  t.match(error.message, /login/);
  t.notOk(camera.textLines.includes('START'), 'START is not sent before the login reply');
});

t.test('no reply to a frame request is TIMEOUT, after frames flowed', async (t) => {
  // Guards against waiting forever on the one outstanding request.
  const { run } = await faultyRun(t, 'no-frame-reply');
  const error = await run.failure(4000);
  t.equal(error.code, 'TIMEOUT');
  t.ok(run.sink.connectedAt);
  t.equal(run.sink.frames.length, 2, 'the frames before the fault were delivered');
});

t.test('replies slower than the timeout are TIMEOUT', async (t) => {
  // Guards that a late reply does not stretch the reply timeout.
  const { run } = await faultyRun(t, 'slow-reply', { replyDelayMs: 2 * READ_TIMEOUT_MS + 500 });
  const error = await run.failure(4000);
  t.equal(error.code, 'TIMEOUT');
  t.match(error.message, /frame request: no answer within 500 ms/);
});

t.test('replies slower than the pace but within the timeout keep flowing', async (t) => {
  // Guards that a slow camera is not mistaken for a dead one.
  const { run } = await faultyRun(t, 'slow-reply', { replyDelayMs: READ_TIMEOUT_MS / 2, faultAfter: 0 });
  await run.sink.waitForFrames(4, 5000);
  t.equal(run.outcome.state, 'running');
});

for (const fault of ['close-mid-header', 'close-mid-jpeg'] as const) {
  t.test(`disconnect in the middle of ${fault === 'close-mid-header' ? 'a header' : 'a JPEG'} is CLOSED`, async (t) => {
    // Guards that a truncated message is neither delivered nor waited on until a timeout.
    const { run } = await faultyRun(t, fault, {}, { readTimeoutMs: 5000 });
    const error = await run.failure(3000);
    t.equal(error.code, 'CLOSED');
    t.equal(run.sink.frames.length, 2, 'only the whole frames before the cut');
    t.ok(run.sink.frames.every((frame) => isCompleteJpeg(payloadBytes(frame))));
  });
}

t.test('payloads trickled a byte at a time come out as whole frames', async (t) => {
  // Guards the incremental parser against messages split across many reads.
  const { run, camera } = await faultyRun(t, 'trickle', {}, { readTimeoutMs: 5000, inputFrameRate: 0 });
  await run.sink.waitForFrames(3, 12_000);
  t.equal(run.outcome.state, 'running');
  for (const frame of run.sink.frames) t.ok(jpegs.some((jpeg) => jpeg.equals(payloadBytes(frame))), 'byte for byte a served JPEG');
  t.equal(camera.connections, 1);
});

t.test('a frame length over 2,000,000 is PROTOCOL', async (t) => {
  // Guards against trusting a length field to size a buffer.
  const { run } = await faultyRun(t, 'oversize-frame-length');
  const error = await run.failure(3000);
  t.equal(error.code, 'PROTOCOL');
  t.match(error.message, /0x02 announces 2000001 bytes/);
});

t.test('a frame over camera.maxFrameBytes is PROTOCOL even under 2,000,000', async (t) => {
  // Guards that the configured frame limit is the one applied when it is the smaller.
  const { run } = await faultyRun(t, undefined, {}, { maxFrameBytes: 1000 });
  const error = await run.failure(3000);
  t.equal(error.code, 'PROTOCOL');
  t.match(error.message, /over the limit of 1000/);
});

t.test('another id with a length over 1,000 is PROTOCOL', async (t) => {
  // Guards the tighter limit on messages that are not frames.
  const { run } = await faultyRun(t, 'oversize-other-length');
  const error = await run.failure(3000);
  t.equal(error.code, 'PROTOCOL');
  t.match(error.message, /0x31 announces 1001 bytes/);
});

t.test('payloads that are not JPEG are dropped and counted; the stream continues', async (t) => {
  // Guards that one bad frame does not cost the connection.
  const { run, adapter } = await faultyRun(t, 'not-jpeg', {}, { inputFrameRate: 0 });
  await run.sink.waitForFrames(8, 5000);
  t.equal(run.outcome.state, 'running');
  t.ok(adapter.counters.notJpeg >= 6, `${adapter.counters.notJpeg} dropped`);
  t.ok(run.sink.frames.every((frame) => isCompleteJpeg(payloadBytes(frame))), 'only whole JPEGs delivered');
  const notes = run.sink.logs.filter((line) => line.includes('not a whole JPEG'));
  t.equal(notes.length, 1, 'logged once per interval, not per frame');
});

t.test('unrequested messages of other ids are discarded; the stream continues', async (t) => {
  // Guards that an unknown message is not taken as a frame reply or as fatal.
  const { run, adapter } = await faultyRun(t, 'unrequested');
  await run.sink.waitForFrames(4, 5000);
  t.equal(run.outcome.state, 'running');
  t.ok(adapter.counters.otherMessages >= 3, `${adapter.counters.otherMessages} discarded`);
  t.ok(run.sink.frames.every((frame) => jpegs.some((jpeg) => jpeg.equals(payloadBytes(frame)))));
  t.equal(run.sink.logs.filter((line) => line.includes('0x81')).length, 1, 'logged once per interval');
});

t.test('after each fault, a fresh run() against the healed camera gets frames again', async (t) => {
  // Guards that nothing from a failed run (buffers, counters, listeners) breaks the next one the supervisor starts.
  const faults: VbcFault[] = ['close-mid-jpeg', 'oversize-frame-length', 'no-frame-reply', 'version-without-nul', 'close-on-accept'];
  for (const fault of faults) {
    const camera = await VbcSimulator.start({ jpegs, fault, faultAfter: 3 });
    const adapter = new VbcAdapter(makeCameraConfig(camera.url, { readTimeoutMs: READ_TIMEOUT_MS, inputFrameRate: 20 }));
    const failed = new BackgroundRun(adapter);
    const error = await failed.failure(3000);
    camera.fault = undefined;
    const healed = new BackgroundRun(adapter);
    await healed.sink.waitForFrames(3, 5000);
    t.same(await healed.stop(), { state: 'resolved' }, `${fault}: ${error.code}, then frames again`);
    t.equal(camera.connections, 2, `${fault}: one connection per run`);
    await camera.close();
  }
});
