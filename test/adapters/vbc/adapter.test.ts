import { UNLIMITED_SLOTS } from '../../../lib/process-slots.ts';
import { payloadBytes } from '../../helpers/sink.ts';
import t from 'tap';
import { createAdapterRegistry } from '../../../adapters/index.ts';
import { VbcAdapter, parseVbcUrl } from '../../../adapters/vbc/client.ts';
import { makeCameraConfig } from '../../helpers/camera-config.ts';
import { makeCanonJpegs, runTool } from './canon-jpegs.ts';
import { BackgroundRun, waitUntil } from './run-helpers.ts';
import { VbcSimulator } from './simulator.ts';

const jpegs = await makeCanonJpegs(4);
const LOGIN = Buffer.from('10100b45293d523c4a4f16', 'hex');

t.test('vbc:// is registered and defaults to port 65310', async (t) => {
  const registry = createAdapterRegistry();
  t.ok(registry.has('vbc'));
  const adapter = registry.create(makeCameraConfig('vbc://camera.example'), { ffmpegPath: 'ffmpeg', processSlots: UNLIMITED_SLOTS });
  t.equal(adapter.kind, 'vbc');
  t.same(parseVbcUrl('vbc://camera.example'), { host: 'camera.example', port: 65310 });
  t.same(parseVbcUrl('vbc://[::1]:7000'), { host: '::1', port: 7000 });
  t.throws(() => parseVbcUrl('vbc://host:0'), /port/);
});

t.test('pulls real Canon-style JPEGs (APP0 "VB", no JFIF) that ffprobe decodes', async (t) => {
  const camera = await VbcSimulator.start({ jpegs });
  t.teardown(() => camera.close());
  t.notOk(jpegs[0]!.includes('JFIF'), 'the served JPEGs carry no JFIF marker');
  const run = new BackgroundRun(new VbcAdapter(makeCameraConfig(camera.url, { inputFrameRate: 10 })));
  await run.sink.waitForFrames(5, 8000);
  t.ok(run.sink.connectedAt, 'onConnected was called');
  const first = run.sink.frames[0]!;
  t.equal(first.track.codec, 'jpeg');
  t.equal(first.keyframe, true);
  t.ok(jpegs.some((jpeg) => jpeg.equals(payloadBytes(first))), 'a frame is byte for byte one the camera sent');
  const probe = JSON.parse((await runTool('ffprobe', [
    '-v', 'error', '-f', 'jpeg_pipe', '-i', 'pipe:0', '-show_entries', 'stream=codec_name,width,height', '-of', 'json',
  ], payloadBytes(first))).toString()) as { streams: Array<{ codec_name: string; width: number; height: number }> };
  t.same(probe.streams[0], { codec_name: 'mjpeg', width: 192, height: 144 });
  t.same(await run.stop(), { state: 'resolved' }, 'abort resolves run()');
  await waitUntil(() => camera.openConnections === 0, 2000, 'the adapter to close its socket');
});

t.test('the camera sees exactly the documented command sequence, on exactly one connection', async (t) => {
  const camera = await VbcSimulator.start({ jpegs });
  t.teardown(() => camera.close());
  const config = makeCameraConfig(camera.url, { inputFrameRate: 10, vbcImageSize: { width: 192, height: 144 } });
  const run = new BackgroundRun(new VbcAdapter(config));
  await run.sink.waitForFrames(3, 8000);
  await run.stop();
  t.equal(camera.connections, 1);
  const text = camera.commands.flatMap((c) => (c.kind === 'text' ? [[c.line.toString('hex'), c.repliesSentBefore]] : []));
  t.same(text, [
    [Buffer.from('VERSION').toString('hex'), 0],
    [Buffer.concat([Buffer.from('SUPER r'), LOGIN]).toString('hex'), 1], // sent only after the VERSION reply
    [Buffer.from('SET Mode Administrator').toString('hex'), 1],
    [Buffer.from('GET MUXCONF').toString('hex'), 1],
    [Buffer.from('START').toString('hex'), 2], // sent only after the one reply to the three login lines
  ]);
  const binary = camera.binaryCommands.map((c) => [c.id, c.header, c.payload.toString('hex')]);
  t.same(binary.slice(0, 6), [
    [0x85, 0, ''],
    [0x8c, 0, '030a0b0e'],
    [0x8d, 0, ''],
    [0x87, 0, ''],
    [0x91, 0, '00000000'],
    [0x88, 0, '00c00090'],
  ]);
  const requests = binary.slice(6);
  t.ok(requests.every(([id, header, payload]) => id === 0x85 && header === 0 && payload === ''), 'then only frame requests');
  const frames = run.sink.frames.length;
  t.ok(requests.length === frames || requests.length === frames + 1, `${requests.length} requests for ${frames} frames: one outstanding at most`);
});

t.test('without an image size, no 0x88 message is sent', async (t) => {
  const camera = await VbcSimulator.start({ jpegs });
  t.teardown(() => camera.close());
  const run = new BackgroundRun(new VbcAdapter(makeCameraConfig(camera.url, { inputFrameRate: 20 })));
  await run.sink.waitForFrames(2, 8000);
  await run.stop();
  t.notOk(camera.binaryCommands.some((c) => c.id === 0x88));
});

t.test('a custom login is sent as given and never appears in a log line', async (t) => {
  const camera = await VbcSimulator.start({ jpegs });
  t.teardown(() => camera.close());
  const login = Buffer.from('s3cr3t-LOGIN', 'latin1');
  const run = new BackgroundRun(new VbcAdapter(makeCameraConfig(camera.url, { inputFrameRate: 20, vbcLogin: login })));
  await run.sink.waitForFrames(1, 8000);
  await run.stop();
  t.equal(camera.textLines[1], 'SUPER rs3cr3t-LOGIN');
  t.notOk(run.sink.logs.some((line) => line.includes('s3cr3t')), 'no log line carries the login');
});

t.test('pacing at inputFrameRate 6 gives 6 +/- 1 frames per second', async (t) => {
  const camera = await VbcSimulator.start({ jpegs });
  t.teardown(() => camera.close());
  const run = new BackgroundRun(new VbcAdapter(makeCameraConfig(camera.url, { inputFrameRate: 6 })));
  await run.sink.waitForFrames(2, 8000);
  const from = run.sink.frames.length;
  await new Promise((resolve) => setTimeout(resolve, 3000));
  const window = run.sink.frames.slice(from);
  await run.stop();
  const seconds = (window.at(-1)!.pts - window[0]!.pts) / 1000;
  const rate = (window.length - 1) / seconds;
  t.comment(`measured ${rate.toFixed(2)} frames/s: ${window.length} frames over ${seconds.toFixed(2)} s`);
  t.ok(window.length >= 15 && window.length <= 21, `${window.length} frames in 3 s`);
  t.ok(rate >= 5 && rate <= 7, `rate ${rate.toFixed(2)} within 6 +/- 1`);
  t.equal(camera.connections, 1);
});

t.test('inputFrameRate 0 pulls as fast as the camera answers', async (t) => {
  const camera = await VbcSimulator.start({ jpegs });
  t.teardown(() => camera.close());
  const run = new BackgroundRun(new VbcAdapter(makeCameraConfig(camera.url, { inputFrameRate: 0 })));
  await run.sink.waitForFrames(60, 8000);
  const elapsed = performance.now() - run.startedAt;
  await run.stop();
  t.comment(`60 frames in ${elapsed.toFixed(0)} ms unpaced`);
  t.ok(elapsed < 6000, 'far faster than any paced rate would allow');
});

t.test('abort while waiting for the camera resolves promptly', async (t) => {
  // Guards against run() hanging until a timeout when stopped during the text phase.
  const camera = await VbcSimulator.start({ jpegs, fault: 'silent' });
  t.teardown(() => camera.close());
  const run = new BackgroundRun(new VbcAdapter(makeCameraConfig(camera.url, { readTimeoutMs: 10_000 })));
  await waitUntil(() => camera.connections === 1, 2000, 'the connection');
  const stoppedAt = performance.now();
  t.same(await run.stop(1000), { state: 'resolved' });
  t.ok(performance.now() - stoppedAt < 500, 'resolved within 500 ms');
  await waitUntil(() => camera.openConnections === 0, 2000, 'the socket to close');
});

t.test('a camera that leaves the setup messages unanswered still streams, after a bounded wait for each', async (t) => {
  // Guards that setup replies are optional: each is awaited about 100 ms, then the next message goes out.
  const camera = await VbcSimulator.start({ jpegs, quietSetup: true });
  t.teardown(() => camera.close());
  const config = makeCameraConfig(camera.url, { inputFrameRate: 20, vbcImageSize: { width: 192, height: 144 } });
  const run = new BackgroundRun(new VbcAdapter(config));
  await run.sink.waitForFrames(2, 8000);
  const setupMs = run.sink.connectedAt! - run.startedWall;
  await run.stop();
  t.comment(`setup took ${setupMs} ms with 5 unanswered messages`);
  t.ok(setupMs >= 450 && setupMs < 2000, `setup waited ${setupMs} ms: about 100 ms for each unanswered message`);
  t.same(camera.binaryCommands.slice(0, 6).map((c) => c.id), [0x85, 0x8c, 0x8d, 0x87, 0x91, 0x88]);
});

t.test('abort between paced requests resolves promptly', async (t) => {
  // Guards that the pacing wait does not hold run() open after the Feed stops it.
  const camera = await VbcSimulator.start({ jpegs });
  t.teardown(() => camera.close());
  const run = new BackgroundRun(new VbcAdapter(makeCameraConfig(camera.url, { inputFrameRate: 0.5 })));
  await run.sink.waitForFrames(1, 8000);
  const stoppedAt = performance.now();
  t.same(await run.stop(1500), { state: 'resolved' });
  t.ok(performance.now() - stoppedAt < 500, 'resolved well before the next request was due');
  await waitUntil(() => camera.openConnections === 0, 2000, 'the socket to close');
});
