import t, { type Test } from 'tap';
import { performance } from 'node:perf_hooks';
import { RtspAdapter } from '../../../adapters/rtsp/client.ts';
import { AdapterError } from '../../../adapters/errors.ts';
import type { VideoUnit } from '../../../media/types.ts';
import type { RtspTransport } from '../../../conf/types.ts';
import { makeCameraConfig } from '../../helpers/camera-config.ts';
import { payloadBytes, RecordingSink } from '../../helpers/sink.ts';
import { GstRtspServer, type GstServerOptions } from './gst-server.ts';
import { probe } from './probe.ts';

const FPS = 10;
const FRAMES = 25;

/** A RecordingSink that also notes when each frame arrived, to measure the frame rate by the wall clock. */
class TimedSink extends RecordingSink {
  readonly arrivals: number[] = [];
  override onFrame(frame: VideoUnit): void {
    this.arrivals.push(performance.now());
    super.onFrame(frame);
  }
}

interface Session {
  readonly sink: TimedSink;
  readonly server: GstRtspServer;
  readonly outcome: Promise<void>;
}

/** Starts a server and an adapter against it, and makes the test stop both whatever happens. */
async function play(t: Test, server: GstServerOptions, camera: { transport?: RtspTransport; username?: string; password?: string } = {}): Promise<Session> {
  const gst = await GstRtspServer.start(server);
  t.teardown(() => gst.stop());
  const sink = new TimedSink();
  const config = makeCameraConfig(gst.url, { rtspTransport: camera.transport ?? 'tcp', username: camera.username, password: camera.password });
  const outcome = new RtspAdapter(config).run(sink);
  outcome.catch(() => {}); // inspected by the tests that expect a failure
  t.teardown(async () => {
    sink.stop();
    await outcome.catch(() => {});
  });
  return { sink, server: gst, outcome };
}

/** Frames per second by the wall clock and by the RTP timestamps, over all frames but the first few (start-up burst). */
function rates(sink: TimedSink): { wall: number; media: number } {
  const skip = 5;
  const arrivals = sink.arrivals.slice(skip);
  const stamps = sink.frames.slice(skip).map((frame) => frame.pts);
  const span = (values: number[]): number => (values[values.length - 1]! - values[0]!) / 1000;
  return { wall: (arrivals.length - 1) / span(arrivals), media: (stamps.length - 1) / span(stamps) };
}

function nalTypes(annexB: Buffer): number[] {
  const types: number[] = [];
  for (let at = annexB.indexOf(Buffer.from([0, 0, 1])); at >= 0; at = annexB.indexOf(Buffer.from([0, 0, 1]), at + 3)) {
    types.push(annexB[at + 3]! & 0x1f);
  }
  return types;
}

async function checkH264(t: Test, transport: RtspTransport): Promise<void> {
  const { sink, server } = await play(t, { codec: 'h264', fps: FPS }, { transport });
  await sink.waitForFrames(FRAMES, 15_000);
  const frames = sink.frames.slice(0, FRAMES);
  t.ok(frames.every((frame) => frame.track.codec === 'h264'), 'every frame is H.264');
  const first = frames[0]!;
  t.ok(first.keyframe, 'the first access unit is a keyframe');
  const types = nalTypes(payloadBytes(first));
  t.ok(types.includes(5), 'the keyframe holds an IDR slice');
  t.ok(types.indexOf(7) >= 0 && types.indexOf(7) < types.indexOf(5), 'SPS comes before the IDR slice');
  t.ok(types.indexOf(8) >= 0 && types.indexOf(8) < types.indexOf(5), 'PPS comes before the IDR slice');
  t.ok(frames.filter((frame) => frame.keyframe).length >= 2, 'keyframes recur (key-int-max is one second)');
  const result = await probe(Buffer.concat(frames.map(payloadBytes)), 'h264');
  t.match(result, { codec: 'h264', width: 320, height: 240, decodedFrames: FRAMES, errors: '' }, 'ffprobe decodes every access unit');
  const { wall, media } = rates(sink);
  t.ok(Math.abs(wall - FPS) <= FPS * 0.2, `frame rate by the clock ${wall.toFixed(2)} fps is ${FPS} +/- 20%`);
  t.ok(Math.abs(media - FPS) <= FPS * 0.2, `frame rate by RTP time ${media.toFixed(2)} fps is ${FPS} +/- 20%`);
  t.ok(frames.every((frame, i) => i === 0 || frame.pts > frames[i - 1]!.pts), 'timestamps increase');
  t.equal(server.clientConnections, 1, 'the server saw one client connection');
  t.ok(sink.connectedAt !== undefined, 'onConnected was called');
}

t.test('H.264 over interleaved TCP', (t) => checkH264(t, 'tcp'));

t.test('H.264 over UDP', (t) => checkH264(t, 'udp'));

t.test('JPEG over interleaved TCP: RFC 2435 images rebuilt into JPEGs ffprobe decodes', async (t) => {
  const { sink, server } = await play(t, { codec: 'jpeg', fps: FPS });
  await sink.waitForFrames(FRAMES, 15_000);
  const frames = sink.frames.slice(0, FRAMES);
  t.ok(frames.every((frame) => frame.track.codec === 'jpeg' && frame.keyframe), 'every frame is a JPEG keyframe');
  const result = await probe(Buffer.concat(frames.map(payloadBytes)), 'mjpeg');
  t.match(result, { codec: 'mjpeg', width: 320, height: 240, decodedFrames: FRAMES, errors: '' }, 'ffprobe decodes every image');
  const { wall, media } = rates(sink);
  t.ok(Math.abs(wall - FPS) <= FPS * 0.2, `frame rate by the clock ${wall.toFixed(2)} fps is ${FPS} +/- 20%`);
  t.ok(Math.abs(media - FPS) <= FPS * 0.2, `frame rate by RTP time ${media.toFixed(2)} fps is ${FPS} +/- 20%`);
  t.equal(server.clientConnections, 1, 'the server saw one client connection');
});

for (const scheme of ['basic', 'digest'] as const) {
  t.test(`${scheme} authentication with the right password`, async (t) => {
    const auth = { scheme, username: 'viewer', password: 's3cret:"pw"' };
    const { sink, server } = await play(t, { codec: 'h264', fps: FPS, auth }, { username: auth.username, password: auth.password });
    await sink.waitForFrames(5, 15_000);
    t.ok(sink.frames[0]?.keyframe, 'frames flow after authenticating');
    t.equal(server.clientConnections, 1, 'one connection, authenticated in place');
  });

  t.test(`${scheme} authentication with a wrong password fails with AUTH and keeps the password out of the message`, async (t) => {
    const auth = { scheme, username: 'viewer', password: 'right-password' };
    const { outcome, sink } = await play(t, { codec: 'h264', fps: FPS, auth }, { username: 'viewer', password: 'wrong-password' });
    const error = await outcome.then(() => undefined, (caught: unknown) => caught);
    t.ok(error instanceof AdapterError, 'an AdapterError');
    t.equal((error as AdapterError).code, 'AUTH');
    t.notMatch((error as AdapterError).message, 'wrong-password', 'no password in the message');
    t.notMatch((error as AdapterError).message, 'viewer', 'no user name in the message');
    t.equal(sink.frames.length, 0);
  });
}

t.test('a camera that needs credentials, given none, fails with AUTH', async (t) => {
  const { outcome } = await play(t, { codec: 'jpeg', fps: FPS, auth: { scheme: 'basic', username: 'u', password: 'p' } });
  await t.rejects(outcome, { code: 'AUTH', message: /none are configured/ });
});
