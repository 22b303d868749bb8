// Guards: changing only a Record* (or Control*) setting of a camera and reloading removed and re-added the camera,
// cutting off the live viewers of all its streams; a reload must restart only what changed.
import { writeFile } from 'node:fs/promises';
import t from 'tap';
import { ControllableCamera, makeJpegFrames, registryWith } from '../../helpers/controllable-camera.ts';
import { fetchBytes, openViewer, waitFor, type OpenViewer } from '../../helpers/probe.ts';
import { startTestRelay } from '../../helpers/relay.ts';
import { sleep, tempDir } from '../recording/fixtures.ts';

interface Settings {
  source: string;
  recordRate: number;
  deleteAfter: string;
  segmentSeconds: number;
  holdSeconds: number;
  otherBitRate: number;
}

function configText(dir: string, settings: Settings): string {
  return `HTTPPort 0
RecordPath ${dir}
RecordMinFreeSpace 0
<Camera cam>
  Source ${settings.source}
  Record yes
  RecordSize 160x120
  RecordFrameRate ${settings.recordRate}
  RecordSegmentSeconds ${settings.segmentSeconds}
  RecordDeleteAfter ${settings.deleteAfter}
  Control canon-http
  ControlAddress http://127.0.0.1:9
  ControlHoldSeconds ${settings.holdSeconds}
</Camera>
<Stream kept.flv>
  Feed cam
  VideoSize 160x120
  VideoFrameRate 10
  VideoBitRate 200
</Stream>
<Stream other.flv>
  Feed cam
  VideoSize 160x120
  VideoFrameRate 10
  VideoBitRate ${settings.otherBitRate}
</Stream>
`;
}

/** A viewer held open, with the longest pause between two of its chunks (or since the last one) since `mark()`. */
interface HeldViewer {
  readonly viewer: OpenViewer;
  closed: boolean;
  longestGapMs: number;
  mark(): void;
  gapMs(): number;
}

async function holdViewer(url: string): Promise<HeldViewer> {
  const viewer = await openViewer(url);
  let last = Date.now();
  const held: HeldViewer = {
    viewer,
    closed: false,
    longestGapMs: 0,
    mark() {
      last = Date.now();
      held.longestGapMs = 0;
    },
    gapMs: () => Math.max(held.longestGapMs, Date.now() - last),
  };
  viewer.response.on('data', () => {
    const now = Date.now();
    held.longestGapMs = Math.max(held.longestGapMs, now - last);
    last = now;
  });
  viewer.response.on('close', () => (held.closed = true));
  return held;
}

t.test('a reload restarts only what changed: the recorder, the control, one stream, or the whole camera', async (t) => {
  const { dir, cleanup } = await tempDir('relay-reload-scope-');
  const camera = new ControllableCamera(makeJpegFrames(10, '160x120'), 10);
  const settings: Settings = { source: 'ctl://cam', recordRate: 5, deleteAfter: '7d', segmentSeconds: 60, holdSeconds: 30, otherBitRate: 150 };
  const relay = await startTestRelay(configText(dir, settings), { adapters: registryWith({ cam: camera }) });
  t.teardown(async () => {
    await relay.stop();
    await cleanup();
  });
  const stat = async () => JSON.parse((await fetchBytes(`${relay.baseUrl}/stat.json`)).body.toString()) as {
    recording: { cameras: Array<{ name: string; state: string; currentSegment: string | null }> };
    encoders: Array<{ id: string; streams: string[] }>;
  };
  const recordEncoder = async () => (await stat()).encoders.find((encoder) => encoder.streams.includes('record:cam'))?.id;
  const segment = async () => (await stat()).recording.cameras.find((entry) => entry.name === 'cam')?.currentSegment ?? null;
  const holdSeconds = async () => ((await (await fetch(`${relay.baseUrl}/api/control/cam`)).json()) as { holdSeconds: number }).holdSeconds;
  const reloadWith = async (change: Partial<Settings>) => {
    Object.assign(settings, change);
    await writeFile(relay.configFile, configText(dir, settings));
    await relay.reload();
  };

  await waitFor(async () => (await segment()) !== null, 30_000, 'the recorder to open a segment');
  const kept = await holdViewer(`${relay.baseUrl}/kept.flv`);
  const other = await holdViewer(`${relay.baseUrl}/other.flv`);
  await waitFor(() => kept.viewer.bytes > 0 && other.viewer.bytes > 0, 20_000, 'both viewers to get video');
  t.equal(await holdSeconds(), 30);
  const connections = camera.connections;
  t.equal(connections, 1, 'one camera connection');

  // A record setting: a new recorder (new segment), nothing else.
  const firstSegment = await segment();
  kept.mark();
  other.mark();
  let bytes = [kept.viewer.bytes, other.viewer.bytes];
  await reloadWith({ recordRate: 4 });
  await waitFor(async () => ![null, firstSegment].includes(await segment()), 20_000, 'the restarted recorder\'s segment');
  await sleep(1500);
  t.same([kept.closed, other.closed], [false, false], 'Record*: both viewers stay connected');
  t.ok(kept.viewer.bytes > bytes[0]! && other.viewer.bytes > bytes[1]!, 'Record*: both go on receiving');
  t.ok(kept.gapMs() < 1000 && other.gapMs() < 1000, `Record*: no gap beyond a second (${kept.gapMs()} ms, ${other.gapMs()} ms)`);
  t.equal(camera.connections, connections, 'Record*: the camera connection stays');
  t.match(relay.logs.join('\n'), 'removed nothing; kept 2 (camera cam running on, with new recording or control settings)', 'Record*: the log says what the reload did');
  t.same((await stat()).encoders.map((entry) => entry.streams.join(' ')).sort(), ['kept.flv', 'other.flv', 'record:cam'], 'Record*: the old recorder\'s encoder is let go');

  // A record setting the encoder does not read: a new recorder on the same running encoder.
  const encoder = await recordEncoder();
  const segmentBefore = await segment();
  await reloadWith({ segmentSeconds: 50 });
  await waitFor(async () => ![null, segmentBefore].includes(await segment()), 20_000, 'the restarted recorder\'s segment');
  t.equal(await recordEncoder(), encoder, 'RecordSegmentSeconds: the recorder\'s encoder goes on');
  t.equal((await stat()).encoders.length, 3, 'RecordSegmentSeconds: and is held once');

  // A retention setting: retention follows it; the recorder goes on with its open segment.
  const recordSegment = await segment();
  await reloadWith({ deleteAfter: '6d' });
  t.equal(await segment(), recordSegment, 'RecordDeleteAfter: the recorder goes on with its segment');

  // A control setting: the control starts afresh with it (its queue is ended at once); recorder and viewers go on.
  const place = (await (await fetch(`${relay.baseUrl}/api/control/cam/request`, { method: 'POST' })).json()) as { id: string };
  const controlEvents = await holdViewer(`${relay.baseUrl}/api/control/cam/events?id=${place.id}`);
  kept.mark();
  other.mark();
  bytes = [kept.viewer.bytes, other.viewer.bytes];
  await reloadWith({ holdSeconds: 20 });
  await waitFor(() => controlEvents.closed, 5000, 'Control*: the old control\'s queue to be ended');
  t.match(controlEvents.viewer.head.toString(), /event: ended/, 'Control*: its holder is told');
  t.equal(await holdSeconds(), 20, 'Control*: the control follows the new setting');
  await sleep(1500);
  t.same([kept.closed, other.closed], [false, false], 'Control*: both viewers stay connected');
  t.ok(kept.viewer.bytes > bytes[0]! && other.viewer.bytes > bytes[1]!, 'Control*: both go on receiving');
  t.ok(kept.gapMs() < 1000 && other.gapMs() < 1000, `Control*: no gap beyond a second (${kept.gapMs()} ms, ${other.gapMs()} ms)`);
  t.equal(await segment(), recordSegment, 'Control*: the recorder goes on with its segment');
  t.equal(camera.connections, connections, 'Control*: the camera connection stays');

  // One stream's settings: that stream restarts (its viewer is ended); the other stream and the camera go on.
  kept.mark();
  bytes = [kept.viewer.bytes];
  await reloadWith({ otherBitRate: 120 });
  await waitFor(() => other.closed, 5000, 'the changed stream\'s viewer to be ended');
  await sleep(1500);
  t.notOk(kept.closed, 'Stream: the untouched stream\'s viewer stays connected');
  t.ok(kept.viewer.bytes > bytes[0]!, 'Stream: and goes on receiving');
  t.ok(kept.gapMs() < 1000, `Stream: no gap beyond a second (${kept.gapMs()} ms)`);
  t.equal(await segment(), recordSegment, 'Stream: the recorder goes on with its segment');
  t.equal(camera.connections, connections, 'Stream: the camera connection stays');
  const again = await holdViewer(`${relay.baseUrl}/other.flv`);
  await waitFor(() => again.viewer.bytes > 0, 20_000, 'the restarted stream to serve');
  again.viewer.close();

  // The camera's source: the camera, its streams and its recorder restart.
  await reloadWith({ source: 'ctl://cam/?again' });
  await waitFor(() => kept.closed, 5000, 'Source: the viewer of the restarted camera to be ended');
  await waitFor(() => camera.connections === connections + 1, 10_000, 'Source: a new camera connection');
  await waitFor(async () => ![null, recordSegment].includes(await segment()), 20_000, 'Source: a new recorder segment');
  t.pass('Source: camera, streams and recorder restarted');
});
