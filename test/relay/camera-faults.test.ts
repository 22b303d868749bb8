import t from 'tap';
import { ControllableCamera, makeJpegFrames, registryWith } from '../helpers/controllable-camera.ts';
import { fetchBytes, openViewer, waitFor, type OpenViewer } from '../helpers/probe.ts';
import { startTestRelay } from '../helpers/relay.ts';

const frames = makeJpegFrames(20);
const cam = new ControllableCamera(frames, 10);
const late = new ControllableCamera(frames, 10);
const lazy = new ControllableCamera(frames, 10);
const mute = new ControllableCamera(frames, 10);
late.setMode('down');
mute.setMode('stall');

const relay = await startTestRelay(
  `
<Camera cam>
  Source ctl://cam
  Timeout 1.5
</Camera>
<Camera late>
  Source ctl://late
</Camera>
<Camera lazy>
  Source ctl://lazy
  OnDemand yes
  CloseAfter 1
</Camera>
<Camera mute>
  Source ctl://mute
  Timeout 60
</Camera>
<Stream mute.jpg>
  Feed mute
</Stream>
<Stream cam.flv>
  Feed cam
  VideoFrameRate 10
  VideoBitRate 300
</Stream>
<Stream cam.mjpg>
  Feed cam
</Stream>
<Stream cam.m3u8>
  Feed cam
  VideoBitRate 300
  HLSSegmentTime 1
</Stream>
<Stream late.mjpg>
  Feed late
</Stream>
<Stream lazy.mjpg>
  Feed lazy
</Stream>
<Stream lazy.flv>
  Feed lazy
  VideoBitRate 300
</Stream>
`,
  { adapters: registryWith({ cam, late, lazy, mute }) },
);
t.teardown(() => relay.stop());

interface CameraStat { name: string; state: string; reconnects: number; nextAttemptInSeconds: number | null; lastError: { message: string } | null }
interface StreamStat { name: string; ffmpeg: { pid: number | null; restarts: number; lastError: unknown } | null }
const stat = async (): Promise<{ cameras: CameraStat[]; streams: StreamStat[] }> => (await fetch(`${relay.baseUrl}/stat.json`)).json() as never;
const cameraStat = async (name: string): Promise<CameraStat> => (await stat()).cameras.find((c) => c.name === name)!;

/** Resolves with the ms until the viewer's byte count next grows. */
async function msUntilBytes(viewer: OpenViewer, timeoutMs: number): Promise<number> {
  const start = Date.now();
  const before = viewer.bytes;
  await waitFor(() => viewer.bytes > before, timeoutMs, 'bytes to flow again');
  return Date.now() - start;
}

// The camera `cam` goes through its faults one after another; the cameras `late` and `mute` only wait, each on its own
// camera, so they run beside it. The on-demand one starts encoders: it runs alone, after them.
t.jobs = 3;

t.test('the camera cam through an outage, a stall, garbage and encoder kills', async (t) => {
  t.test('after a 5 s camera outage, FLV and MJPEG viewers stay connected and get frames within 2 s of its return', async (t) => {
    const flv = await openViewer(`${relay.baseUrl}/cam.flv`);
    const mjpeg = await openViewer(`${relay.baseUrl}/cam.mjpg`);
    await waitFor(() => flv.bytes > 10_000 && mjpeg.bytes > 10_000, 10_000, 'video before the outage');
    cam.setMode('down');
    await new Promise((resolve) => setTimeout(resolve, 5000));
    t.equal((await cameraStat('cam')).state, 'retrying');
    t.match((await cameraStat('cam')).lastError?.message, /^(CLOSED|CONNECT): /);
    const bytesDuringOutage = flv.bytes;
    cam.setMode('up');
    const [flvMs, mjpegMs] = await Promise.all([msUntilBytes(flv, 5000), msUntilBytes(mjpeg, 5000)]);
    t.ok(flvMs < 2000, `FLV frames again ${flvMs} ms after the camera returned`);
    t.ok(mjpegMs < 2000, `MJPEG frames again ${mjpegMs} ms after the camera returned`);
    t.ok(flv.bytes > bytesDuringOutage);
    t.notOk(flv.response.destroyed || mjpeg.response.destroyed, 'viewers were never cut off');
    t.equal(cam.activeConnections, 1, 'one upstream connection');
    t.equal((await cameraStat('cam')).state, 'live');
    flv.close();
    mjpeg.close();
  });

  t.test('a camera that stalls, or sends only garbage, is restarted by the no-frames watchdog', async (t) => {
    for (const mode of ['stall', 'garbage'] as const) {
      const connectionsBefore = cam.connections;
      const reconnectsBefore = (await cameraStat('cam')).reconnects;
      cam.setMode(mode);
      await waitFor(async () => (await cameraStat('cam')).reconnects > reconnectsBefore, 6000, `watchdog on ${mode}`);
      t.equal((await cameraStat('cam')).lastError?.message, 'TIMEOUT: no frames for 1.5 s');
      // The backoff has grown from the outage above (it resets after 30 s of health), so allow a longer retry.
      await waitFor(() => cam.connections > connectionsBefore, 10_000, 'a reconnect');
      cam.setMode('up');
      await waitFor(async () => (await cameraStat('cam')).state === 'live', 5000, 'live again');
      t.pass(`${mode}: watchdog fired, camera reconnected`);
    }
    t.equal(cam.activeConnections, 1);
  });

  t.test('ffmpeg killed with SIGKILL while viewers watch: restarted, viewers resume without reconnecting', async (t) => {
    const viewers = await Promise.all([1, 2, 3].map(() => openViewer(`${relay.baseUrl}/cam.flv`)));
    await waitFor(() => viewers.every((v) => v.bytes > 5000), 10_000, 'FLV to all viewers');
    const output = relay.relay.outputs.get('cam.flv')!;
    const pid = output.video!.pid!;
    process.kill(pid, 'SIGKILL');
    await waitFor(() => output.video!.pid !== undefined && output.video!.pid !== pid, 5000, 'a new ffmpeg');
    await Promise.all(viewers.map((v) => msUntilBytes(v, 5000)));
    const flv = (await stat()).streams.find((s) => s.name === 'cam.flv')!;
    t.equal(flv.ffmpeg?.restarts, 1);
    t.match(JSON.stringify(flv.ffmpeg?.lastError), /ffmpeg exited with SIGKILL/);
    t.ok(viewers.every((v) => !v.response.destroyed), 'viewers still connected');
    for (const v of viewers) v.close();
  });

  t.test('HLS after an ffmpeg restart: the playlist goes on with a discontinuity, sequence numbers never go back', async (t) => {
    const playlist = async (): Promise<string> => (await fetchBytes(`${relay.baseUrl}/cam.m3u8`)).body.toString();
    const segments = (text: string): string[] => text.split('\n').filter((line) => line.endsWith('.ts'));
    // A list that has already slid past its first segment: only then can a restart back to sequence 0 be seen.
    await waitFor(async () => {
      const text = await playlist();
      return segments(text).length >= 2 && /#EXT-X-MEDIA-SEQUENCE:[1-9]/.test(text);
    }, 30_000, 'two HLS segments in a list that has slid');
    const before = segments(await playlist());
    const transcode = relay.relay.outputs.get('cam.m3u8')!.video!;
    const pid = transcode.pid!;
    process.kill(pid, 'SIGKILL');
    await waitFor(() => transcode.pid !== undefined && transcode.pid !== pid, 5000, 'a new ffmpeg');
    const restartMarks = (text: string): string[] => [...text.matchAll(/#EXT-X-DISCONTINUITY\n#EXTINF:[^\n]*\n([^\n]+\.ts)/g)].map((match) => match[1]!);
    await waitFor(async () => restartMarks(await playlist()).length > 0, 15_000, 'a discontinuity before the new segments');
    const after = await playlist();
    const number = (name: string): number => Number(/-(\d+)\.ts$/.exec(name)![1]);
    const newest = segments(after).map(number);
    t.ok(Math.max(...newest) > Math.max(...before.map(number)), `segment numbers go on (${before.map(number).join(',')} -> ${newest.join(',')})`);
    t.ok(restartMarks(after).every((name) => !before.includes(name)), 'the segment after the restart has a new name');
    t.notMatch(after, /#EXT-X-MEDIA-SEQUENCE:0\n/, 'the media sequence did not restart at 0');
    t.match(after, /#EXT-X-DISCONTINUITY-SEQUENCE:\d+\n/);
    const last = segments(after).pop()!;
    t.equal((await fetchBytes(`${relay.baseUrl}/${last}`)).status, 200, 'new segments are served');
  });
});

t.test('a camera that never connects is retried and shown, and starts serving when it comes up', async (t) => {
  // Past its fast phase (retries at most 1.2 s apart, shown rounded up as 2 s), whenever this test runs.
  await waitFor(async () => ((await cameraStat('late')).nextAttemptInSeconds ?? 0) > 2, 30_000, 'the backoff past its fast phase');
  const viewer = await openViewer(`${relay.baseUrl}/late.mjpg`);
  const status = await cameraStat('late');
  t.equal(status.state, 'retrying');
  t.equal(status.lastError?.message, 'CONNECT: connection refused');
  t.equal(viewer.bytes, 0);
  // Down since start, its backoff has grown past the fast phase: it must be back at the attempt time it announced.
  const nextAttemptMs = (status.nextAttemptInSeconds ?? 0) * 1000;
  t.ok(nextAttemptMs <= 60_000, `next attempt in ${nextAttemptMs / 1000} s, within the one-minute cap`);
  late.setMode('up');
  await waitFor(() => viewer.bytes > 0, nextAttemptMs + 3000, 'frames once the camera is up');
  t.equal(late.activeConnections, 1);
  viewer.close();
});

t.test('a snapshot of a camera that sends no frame is a 503 to retry soon, not a hang', async (t) => {
  const started = Date.now();
  const snapshot = await fetchBytes(`${relay.baseUrl}/mute.jpg`);
  t.equal(snapshot.status, 503);
  t.equal(snapshot.headers.get('retry-after'), '2');
  t.equal(snapshot.body.toString(), 'no frame from the camera yet\n');
  t.ok(Date.now() - started < 12_000, `answered after ${Date.now() - started} ms`);
});

t.test('on-demand: no connection until a viewer comes, released CloseAfter after the last one leaves', { buffered: false }, async (t) => {
  t.equal(lazy.connections, 0, 'idle with no viewers');
  t.equal((await cameraStat('lazy')).state, 'idle');
  const started = Date.now();
  const viewer = await openViewer(`${relay.baseUrl}/lazy.flv`);
  await waitFor(() => viewer.bytes > 1000, 10_000, 'video from an on-demand camera');
  t.ok(Date.now() - started < 5000, `first FLV bytes ${Date.now() - started} ms after the request`);
  const second = await openViewer(`${relay.baseUrl}/lazy.mjpg`);
  await waitFor(() => second.bytes > 0, 5000, 'a second stream of the same camera');
  t.equal(lazy.connections, 1, 'one connection for two streams');
  viewer.close();
  second.close();
  await new Promise((resolve) => setTimeout(resolve, 500));
  t.equal(lazy.activeConnections, 1, 'still lingering');
  await waitFor(() => lazy.activeConnections === 0, 3000, 'release after CloseAfter');
  t.equal((await cameraStat('lazy')).state, 'idle');
  const transcodes = relay.relay.outputs.get('lazy.flv')!.video!;
  await waitFor(() => transcodes.pid === undefined, 3000, 'its ffmpeg to stop too');
  const snapshot = await fetchBytes(`${relay.baseUrl}/lazy.jpg`);
  t.equal(snapshot.status, 404, 'no jpeg stream declared for it');
});
