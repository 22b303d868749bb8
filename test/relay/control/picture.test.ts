import t from 'tap';
import { CanonControlCamera } from '../../helpers/canon-control-camera.ts';
import { canonMarker, PositionPicture, watchMarkers, type Marker, type SeenFrame } from '../../helpers/position-picture.ts';
import { startTestRelay } from '../../helpers/relay.ts';

const camera = await CanonControlCamera.start();
const picture = await PositionPicture.start(() => canonMarker(camera), 10);
const relay = await startTestRelay(`
<Camera ptz>
  Source ${picture.url}
  Control canon-http
  ControlAddress ${camera.url}
</Camera>
<Stream ptz.mjpg>
  Feed ptz
  Format mpjpeg
</Stream>
<Stream ptz.flv>
  Feed ptz
  VideoSize 160x120
  VideoFrameRate 10
</Stream>
`);
t.teardown(async () => {
  await relay.stop();
  await picture.close();
  await camera.close();
});

/** Watches one of the relay's outputs and waits until a frame shows the marker near `want`. */
function watch(path: string, format: 'mpjpeg' | 'flv') {
  const frames: SeenFrame[] = [];
  const viewer = watchMarkers(`${relay.baseUrl}${path}`, (frame) => frames.push(frame), format);
  t.teardown(() => viewer.close());
  const near = (marker: Marker | undefined, want: Marker): boolean => !!marker && Math.abs(marker.x - want.x) < 0.1 && Math.abs(marker.y - want.y) < 0.1 && Math.abs(marker.zoom - want.zoom) < 0.1;
  return {
    frames,
    async shows(want: Marker, timeoutMs = 8000): Promise<SeenFrame | undefined> {
      const deadline = Date.now() + timeoutMs;
      for (let seen = 0; Date.now() < deadline; await new Promise((resolve) => setTimeout(resolve, 20))) {
        for (; seen < frames.length; seen++) if (near(frames[seen]!.marker, want)) return frames[seen];
      }
      return undefined;
    },
  };
}

t.test('a command through the control API moves the picture the relay serves, over MJPEG and FLV', async (t) => {
  const mjpeg = watch('/ptz.mjpg', 'mpjpeg');
  const flv = watch('/ptz.flv', 'flv');
  const start = canonMarker(camera);
  t.ok(await mjpeg.shows(start), `the MJPEG output shows the camera where it is (${JSON.stringify(mjpeg.frames.at(-1)?.marker)})`);
  t.ok(await flv.shows(start, 15_000), `the FLV output shows the camera where it is (${JSON.stringify(flv.frames.at(-1)?.marker)})`);

  const api = `${relay.baseUrl}/api/control/ptz`;
  const place = (await (await fetch(`${api}/request`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } })).json()) as { id: string };
  const sent = performance.timeOrigin + performance.now();
  const reply = await fetch(`${api}/goto`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id: place.id, pan: -85, tilt: -40, zoom: 10 }) });
  t.equal(reply.status, 200, await reply.text());
  const moved = canonMarker(camera);
  t.ok(Math.abs(moved.x - start.x) > 0.3 && Math.abs(moved.y - start.y) > 0.3 && Math.abs(moved.zoom - start.zoom) > 0.3, 'the camera moved far enough to tell');
  const onMjpeg = await mjpeg.shows(moved);
  const onFlv = await flv.shows(moved);
  t.ok(onMjpeg, `the MJPEG output shows the move (last ${JSON.stringify(mjpeg.frames.at(-1)?.marker)}, want ${JSON.stringify(moved)})`);
  t.ok(onFlv, `the FLV output shows the move (last ${JSON.stringify(flv.frames.at(-1)?.marker)}, want ${JSON.stringify(moved)})`);
  t.comment(`command to picture: MJPEG ${Math.round((onMjpeg?.at ?? NaN) - sent)} ms, FLV ${Math.round((onFlv?.at ?? NaN) - sent)} ms`);
});
