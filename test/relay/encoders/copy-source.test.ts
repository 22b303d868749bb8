import PQueue from 'p-queue';
import t from 'tap';
import type { AdapterSink, CameraAdapter } from '../../../adapters/types.ts';
import { silentLogger } from '../../../lib/log.ts';
import { h264Track } from '../../../media/h264/params.ts';
import { jpegUnit, type H264Unit, type VideoUnit } from '../../../media/types.ts';
import { Feed } from '../../../relay/core/feed.ts';
import { Passthrough } from '../../../relay/encoders/passthrough.ts';
import type { EncoderSettings } from '../../../relay/encoders/ffmpeg-args.ts';
import { makeCameraConfig } from '../../helpers/camera-config.ts';
import { MjpegCamera } from '../../helpers/mjpeg-camera.ts';
import { waitFor } from '../../helpers/probe.ts';
import { startTestRelayFor } from '../../helpers/relay.ts';

const TRACK = h264Track(Buffer.from('67f40016919b281405ff138088000003000800000300a078b16cb0', 'hex'), Buffer.from('68ebe3c44844', 'hex'));
const JPEG = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(200, 1), Buffer.from([0xff, 0xd9])]);
const COPY = { codec: 'copy', frameRate: 0 } as unknown as EncoderSettings;

/** A camera that sends `frame(i)` every 10 ms until it is stopped. */
class ScriptedCamera implements CameraAdapter {
  readonly kind = 'test';
  sent = 0;
  constructor(private readonly frame: (index: number) => VideoUnit) {}

  async run(sink: AdapterSink): Promise<void> {
    sink.onConnected();
    while (!sink.signal.aborted) {
      sink.onFrame(this.frame(this.sent++));
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
}

/** H.264 units, a keyframe every tenth, 40 ms apart. */
function h264Frame(index: number): H264Unit {
  const keyframe = index % 10 === 0;
  return { track: TRACK, data: [Buffer.from([keyframe ? 0x65 : 0x41, 0x88, index & 0xff])], pts: index * 40, dts: index * 40, keyframe };
}

function feedOf(camera: CameraAdapter, overrides: { onDemand?: boolean; closeAfterMs?: number } = {}): Feed {
  return new Feed({ camera: makeCameraConfig('test://cam', overrides), createAdapter: () => camera, startQueue: new PQueue(), log: silentLogger });
}

/** The copy stream's part on `feed`, started; both closed when the test ends. */
function copyOf(feed: Feed, t: { teardown(fn: () => Promise<void>): void }): Passthrough {
  const copy = new Passthrough('cam#1', COPY, feed, silentLogger);
  copy.start();
  t.teardown(async () => {
    await copy.close();
    await feed.close();
  });
  return copy;
}

// Guards: a copy stream kept a second keyframe group of its own and forgot it on idling while its camera ran on.
t.test('a copy stream reads the Feed\'s own hub: the Feed\'s kept group, its unit objects, no second group that idles', async (t) => {
  const camera = new ScriptedCamera(h264Frame);
  const feed = feedOf(camera, { onDemand: true, closeAfterMs: 100 });
  const copy = copyOf(feed, t);
  const fromFeed = new Set<VideoUnit>();
  feed.subscribe((frame) => void fromFeed.add(frame));
  const fromCopy: H264Unit[] = [];
  copy.subscribe((unit) => void fromCopy.push(unit));
  // Another stream of the camera (a transcoded one) holds the Feed throughout; the copy stream is held for a while.
  const releaseOther = feed.acquire();
  t.teardown(releaseOther);
  const release = copy.acquire();
  await waitFor(() => fromCopy.length >= 25, 5_000, '25 units through the copy stream');
  release();
  t.ok(fromCopy.every((unit) => fromFeed.has(unit)), 'every unit a copy stream gets is the Feed\'s own object');
  t.equal(copy.groupOfPictures, feed.groupOfPictures, 'the copy stream\'s kept group is the Feed\'s own: there is no second one');
  t.equal(copy.track, TRACK, 'its track is the camera\'s');

  // The copy stream idles (CloseAfter) while the camera runs on: a viewer joining it must not wait for the next keyframe.
  await new Promise((resolve) => setTimeout(resolve, 300));
  const counted = copy.counters;
  const kept = feed.groupOfPictures[0];
  t.ok(kept?.keyframe, 'the camera runs on, its keyframe group kept');
  t.equal(copy.groupOfPictures[0], kept, 'a viewer joining the idle copy stream starts on the Feed\'s kept keyframe at once');

  t.ok(counted.framesIn >= 25 && counted.framesOut === counted.framesIn && counted.framesDropped === 0, `frames counted while held (${JSON.stringify(counted)})`);
  t.equal(counted.bytesOut, counted.framesOut * 3, 'bytes out are the units\' NAL unit bytes');
  await waitFor(() => feed.counters.framesIn > counted.framesIn + 10, 5_000, 'the camera\'s frames for the other stream');
  t.same(copy.counters, counted, 'frames the camera sends for other streams while the copy stream is idle are not its');
});

t.test('holding a copy stream holds its on-demand camera: it starts, lingers CloseAfter after the release, then stops', async (t) => {
  const camera = new ScriptedCamera(h264Frame);
  const feed = feedOf(camera, { onDemand: true, closeAfterMs: 1_000 });
  const copy = copyOf(feed, t);
  await new Promise((resolve) => setTimeout(resolve, 100));
  t.equal(camera.sent, 0, 'nobody holds the copy stream: the camera is not started');
  const release = copy.acquire();
  await waitFor(() => feed.state === 'live', 5_000, 'the camera live once the copy stream is held');
  release();
  await new Promise((resolve) => setTimeout(resolve, 100));
  t.equal(feed.state, 'live', 'it lingers after the release');
  await waitFor(() => feed.state === 'idle', 5_000, 'the camera stopped after CloseAfter');
  const sent = camera.sent;
  await new Promise((resolve) => setTimeout(resolve, 100));
  t.equal(camera.sent, sent, 'the camera sends nothing once stopped');
});

t.test('VideoCodec copy of a JPEG camera: nothing reaches its packagers, the frames are counted dropped and the reason shown', async (t) => {
  const camera = new ScriptedCamera((index) => jpegUnit(JPEG, index * 40));
  const feed = feedOf(camera);
  const copy = copyOf(feed, t);
  feed.start();
  const received: H264Unit[] = [];
  copy.subscribe((unit) => void received.push(unit));
  await waitFor(() => copy.counters.framesDropped >= 10, 5_000, 'ten JPEG frames');
  t.equal(received.length, 0, 'no JPEG reaches an H.264 packager');
  t.same(copy.groupOfPictures, [], 'nothing kept for a joining viewer');
  t.equal(copy.track, undefined, 'no track');
  t.equal(copy.counters.framesOut, 0);
  t.equal(copy.stderrTail, 'VideoCodec copy needs an H.264 camera; this one sends jpeg');
});

t.test('a relay with VideoCodec copy of an MJPEG camera reports why on /stat.json and serves no broken FLV', async (t) => {
  const camera = await MjpegCamera.start({ frames: [JPEG], rate: 20 });
  const relay = await startTestRelayFor(t, `<Camera cam>\n Source ${camera.url}\n</Camera>\n<Stream cam.flv>\n Feed cam\n VideoCodec copy\n</Stream>\n`, () => camera.close());
  const encoders = async (): Promise<Array<{ codec: string; stderrTail: string; framesDropped: number; state: string }>> =>
    ((await (await fetch(`${relay.baseUrl}/stat.json`)).json()) as { encoders: Array<{ codec: string; stderrTail: string; framesDropped: number; state: string }> }).encoders;
  await waitFor(async () => ((await encoders())[0]?.framesDropped ?? 0) > 5, 10_000, 'the camera\'s JPEGs at the copy stream');
  t.match((await encoders())[0], { codec: 'copy', state: 'starting', stderrTail: 'VideoCodec copy needs an H.264 camera; this one sends jpeg' });
  // The viewer waits for a picture that never comes; it leaves after a second.
  const response = await fetch(`${relay.baseUrl}/cam.flv`, { signal: AbortSignal.timeout(1_000) })
    .then(async (answer) => (await answer.arrayBuffer().catch(() => undefined), answer.status), (error: Error) => error.name);
  t.ok(response === 200 || response === 'TimeoutError', `the FLV viewer is answered or waits, never a crash (${response})`);
  t.equal((await fetch(`${relay.baseUrl}/stat.json`)).status, 200, 'the relay still answers');
});
