import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { fetchBytes, waitFor } from '../../helpers/probe.ts';
import { startTestRelayFor, type TestRelay } from '../../helpers/relay.ts';
import { slowRead } from '../../helpers/slow-reader.ts';
import { probeFile, startMjpegCamera, tempDir, zipEntryNames } from './fixtures.ts';

// The seed's setup: an mjpg-streamer camera recorded at 5 fps, with a live MJPEG stream and snapshots beside it.
const camera = await startMjpegCamera(10);
const { dir, cleanup } = await tempDir('relay-record-api-');
const relay: TestRelay = await startTestRelayFor(t, `
RecordPath ${dir}
RecordMinFreeSpace 0
RecordMaxRequestSeconds 600
<Camera cam>
  Source ${camera.url}
  Record yes
  RecordFrameRate 5
  RecordSize 160x120
  RecordSegmentSeconds 3
</Camera>
<Camera other>
  Source testsrc://?size=160x120&rate=5
</Camera>
<Stream cam.mjpg>
  Feed cam
</Stream>
<Stream cam.jpg>
  Feed cam
</Stream>
<Stream stat.html>
  Format status
</Stream>
`, () => camera.stop(), cleanup);

const api = (path: string) => fetchBytes(`${relay.baseUrl}${path}`);
const json = async (path: string) => {
  const { status, body, headers } = await api(path);
  return { status, headers, value: JSON.parse(body.toString()) as unknown };
};

await waitFor(async () => {
  const { value } = await json('/record/list?camera=cam');
  return Array.isArray(value) && value.length > 0 && (value[0] as { duration: number }).duration >= 10;
}, 40_000, '10 s recorded');

t.test('one camera connection serves the live streams and the recorder', async (t) => {
  const live = await api('/cam.jpg');
  t.equal(live.status, 200, 'live snapshots keep working');
  t.equal(camera.connections(), 1, 'one upstream connection');
});

t.test('segments decode at the configured rate and size', async (t) => {
  const status = (await json('/stat.json')).value as { recording: { cameras: Array<{ name: string; segments: number; state: string }> } };
  const cam = status.recording.cameras.find((entry) => entry.name === 'cam')!;
  t.equal(cam.state, 'recording');
  t.ok(cam.segments >= 3, `${cam.segments} segments`);
  const { value } = await json('/record/list?camera=cam');
  const first = (value as Array<{ start: string }>)[0]!;
  const day = first.start.slice(0, 10);
  const { readdir } = await import('node:fs/promises');
  const files = (await readdir(join(dir, 'cam', day))).sort();
  const probed = await probeFile(join(dir, 'cam', day, files[0]!));
  t.same([probed.width, probed.height], [160, 120]);
  t.equal(probed.frameRate, '5/1');
  t.ok(probed.frames >= 14 && probed.frames <= 21, `a 3-4 s segment at 5 fps: ${probed.frames} frames`);
});

t.test('/record/list merges adjacent segments into one span', async (t) => {
  const { status, value } = await json('/record/list?camera=cam');
  t.equal(status, 200);
  const spans = value as Array<{ start: string; duration: number }>;
  t.equal(spans.length, 1, JSON.stringify(spans));
  t.match(spans[0]!.start, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
  const from = new Date(Date.parse(spans[0]!.start) + 2000).toISOString();
  const clipped = (await json(`/record/list?camera=cam&start=${from}&end=${new Date(Date.parse(from) + 3000).toISOString()}`)).value;
  t.same(clipped, [{ start: from, duration: 3 }], 'clipped to start and end');
  t.same((await json('/record/list?camera=other')).value, [], 'a camera that does not record lists nothing');
});

t.test('/record/get returns one MP4 of the range, stitched across segments, within one GOP', async (t) => {
  const spans = (await json('/record/list?camera=cam')).value as Array<{ start: string; duration: number }>;
  const start = new Date(Date.parse(spans[0]!.start) + 1000).toISOString();
  const response = await api(`/record/get?camera=cam&start=${encodeURIComponent(start)}&duration=7`);
  t.equal(response.status, 200);
  t.equal(response.headers.get('content-type'), 'video/mp4');
  t.match(response.headers.get('content-disposition'), /^attachment; filename="cam-.*\.mp4"$/);
  const file = join(dir, 'get.mp4');
  await writeFile(file, response.body);
  const probed = await probeFile(file);
  // Keyframes every 2 s: cutting at keyframes adds at most one GOP before the start.
  t.ok(probed.duration >= 6.5 && probed.duration <= 9.2, `7 s asked, ${probed.duration} s returned`);
  t.same([probed.width, probed.height], [160, 120]);
});

// Guards: an export read slowly was cut: Node's keep-alive timer closed the socket 5 s after the body reached the kernel, while the reader was still taking it.
t.test('/record/get read slowly arrives whole, on a connection still open for the next request', async (t) => {
  const spans = (await json('/record/list?camera=cam')).value as Array<{ start: string; duration: number }>;
  const path = `/record/get?camera=cam&start=${encodeURIComponent(spans[0]!.start)}&duration=${Math.floor(spans[0]!.duration)}`;
  const read = await slowRead(relay.port, path);
  t.equal(read.status, 200);
  const file = join(dir, 'slow-get.mp4');
  await writeFile(file, read.body);
  const probed = await probeFile(file);
  t.ok(probed.duration >= spans[0]!.duration - 2.5, `${read.body.length} bytes, ${probed.duration} s of ${spans[0]!.duration} s, decodable to the end`);
  t.match(read.second, /^HTTP\/1\.1 200/, 'the connection was kept alive for the next request');
});

// Guards: a second that fell between two segments (after the last picture of one, before the next began) had no JPEG.
t.test('/record/frames returns a ZIP of one JPEG per second named by UTC time', async (t) => {
  const spans = (await json('/record/list?camera=cam')).value as Array<{ start: string }>;
  const start = new Date(Math.ceil((Date.parse(spans[0]!.start) + 500) / 1000) * 1000).toISOString();
  const response = await api(`/record/frames?camera=cam&start=${encodeURIComponent(start)}&duration=6`);
  t.equal(response.status, 200);
  t.equal(response.headers.get('content-type'), 'application/zip');
  const names = zipEntryNames(response.body);
  const base = Date.parse(start);
  t.same(names, [0, 1, 2, 3, 4, 5].map((i) => `${new Date(base + i * 1000).toISOString().replaceAll(':', '-')}.jpg`));
  const jpeg = response.body.indexOf(Buffer.from([0xff, 0xd8, 0xff]));
  t.ok(jpeg > 0, 'the entries are JPEGs');
  const two = zipEntryNames((await api(`/record/frames?camera=cam&start=${encodeURIComponent(start)}&duration=3&fps=2`)).body);
  t.equal(two.length, 6, 'fps=2 gives two per second');
});

t.test('hostile and bad queries get JSON errors with a stable code', async (t) => {
  const now = new Date().toISOString();
  const cases: Array<[string, number, string]> = [
    ['/record/list?camera=../../etc', 404, 'UNKNOWN_CAMERA'],
    ['/record/list?camera=%2e%2e%2fcam', 404, 'UNKNOWN_CAMERA'],
    ['/record/list?camera=nosuch', 404, 'UNKNOWN_CAMERA'],
    ['/record/list', 404, 'UNKNOWN_CAMERA'],
    ['/record/list?camera=cam&camera=cam', 404, 'UNKNOWN_CAMERA'],
    ['/record/list?camera=cam&start=yesterday', 400, 'BAD_TIME'],
    ['/record/list?camera=cam&start=2026-11-21T12:00:00Z&end=2026-11-20T12:00:00Z', 400, 'BAD_TIME'],
    [`/record/get?camera=cam&start=${now}&duration=-5`, 400, 'BAD_DURATION'],
    [`/record/get?camera=cam&start=${now}&duration=1e9`, 400, 'BAD_DURATION'],
    [`/record/get?camera=cam&start=${now}&duration=99999999`, 400, 'DURATION_TOO_LONG'],
    [`/record/get?camera=cam&start=${now}&duration=601`, 400, 'DURATION_TOO_LONG'],
    ['/record/get?camera=cam&start=9999-12-31T23:59:59Z&duration=60', 404, 'NO_RECORDING'],
    ['/record/get?camera=cam&start=1970-01-01T00:00:00Z&duration=60', 404, 'NO_RECORDING'],
    ['/record/get?camera=cam&start=2026-02-30T25:61:00Z&duration=60', 400, 'BAD_TIME'],
    [`/record/get?camera=cam&start=${'9'.repeat(500)}&duration=60`, 400, 'BAD_TIME'],
    ['/record/get?camera=other&start=2026-11-21T12:00:00Z&duration=60', 404, 'NO_RECORDING'],
    [`/record/frames?camera=cam&start=${now}&duration=5&fps=1000`, 400, 'BAD_FPS'],
    [`/record/frames?camera=cam&start=${now}&duration=5&fps=0`, 400, 'BAD_FPS'],
    ['/recordings/nosuch', 404, 'UNKNOWN_CAMERA'],
    ['/recordings/cam?day=9999-99-99', 400, 'BAD_TIME'], // guards: an impossible day made the page fail with a 500
    ['/recordings/cam?day=../../etc', 400, 'BAD_TIME'],
  ];
  for (const [path, status, code] of cases) {
    const response = await json(path);
    t.equal(response.status, status, path);
    t.equal((response.value as { code: string }).code, code, path);
  }
  t.equal((await api('/recordings/..%2f..%2fetc')).status, 404, 'traversal in the page path');
  const farDay = await api('/recordings/cam?day=9999-12-31');
  t.equal(farDay.status, 200, 'a day far ahead is an empty page');
  t.match(farDay.body.toString(), /nothing recorded on this day/);
});

t.test('/stat.json, /stat.html and /metrics show the recording', async (t) => {
  const { recording } = (await json('/stat.json')).value as { recording: Record<string, unknown> };
  t.ok((recording.bytes as number) > 0 && (recording.segments as number) > 0);
  t.match(recording.oldest, /^\d{4}-/);
  t.same(Object.keys(recording.deletions as object).sort(), ['age', 'cameraSize', 'freeSpace', 'totalSize']);
  const metrics = (await api('/metrics')).body.toString();
  t.match(metrics, /relay_recording_bytes\{camera="cam"\} [1-9]/);
  t.match(metrics, /relay_recording_write_errors_total\{camera="cam"\} 0/);
  t.match(metrics, /relay_recording_deleted_files_total\{reason="age"\} 0/);
  const page = (await api('/stat.html')).body.toString();
  t.match(page, /<h2>Recording<\/h2>/);
  const index = (await api('/')).body.toString();
  t.match(index, /href="\/recordings\/cam"/, '/ links the recordings of a recorded camera');
  t.notMatch(index, /href="\/recordings\/other"/, 'and not of a camera that does not record');
});

t.test('a client that leaves mid-export stops its ffmpeg; more than four exports at once get BUSY', async (t) => {
  const { childFfmpegs } = await import('../../helpers/probe.ts');
  const { get } = await import('node:http');
  const spans = (await json('/record/list?camera=cam')).value as Array<{ start: string; duration: number }>;
  const start = encodeURIComponent(spans[0]!.start);
  const exporting = () => childFfmpegs().filter((cmdline) => /image2pipe|ffconcat/.test(cmdline)).length;
  const left = await new Promise<number>((resolve, reject) => {
    const request = get(`${relay.baseUrl}/record/frames?camera=cam&start=${start}&duration=10&fps=10`, (response) => {
      response.once('data', () => {
        request.destroy(); // gone after the first bytes, in the middle of a JPEG
        resolve(response.statusCode ?? 0);
      });
    });
    request.on('error', () => {});
    request.setTimeout(20_000, () => reject(new Error('no data')));
  });
  t.equal(left, 200);
  await waitFor(() => exporting() === 0, 10_000, 'the export ffmpeg to stop');
  t.pass('no export ffmpeg left behind');

  const controllers = Array.from({ length: 6 }, () => new AbortController());
  const statuses = await Promise.all(controllers.map(async (controller) => {
    const response = await fetch(`${relay.baseUrl}/record/frames?camera=cam&start=${start}&duration=10&fps=10`, { signal: controller.signal });
    const code = response.status === 503 ? ((await response.json()) as { code: string }).code : String(response.status);
    return code;
  }));
  controllers.forEach((controller) => controller.abort());
  t.ok(statuses.includes('BUSY'), `some refused: ${statuses.join(', ')}`);
  t.ok(statuses.filter((status) => status === '200').length <= 4, 'at most four at once');
  await waitFor(() => exporting() === 0, 10_000, 'every export ffmpeg to stop');
  t.equal((await api('/cam.jpg')).status, 200, 'the relay serves on');
});

t.test('fuzzed query strings never get a 500 and always get a JSON error or a result', async (t) => {
  const { prng } = await import('../../helpers/prng.ts');
  const random = prng(1021);
  const pieces = ['cam', '../', '%00', '%2F', '9999-12-31T23:59:59Z', '2026-11-21T12:00:00+14:00', '-1', '1e308', 'NaN', '0.0001',
    '99999999999', '', '&', '=', '%', '%%', 'camera', 'start', 'duration', 'fps', 'T', ':', '\u00e9', 'x'.repeat(300)];
  const pick = () => pieces[Math.floor(random() * pieces.length)]!;
  for (let i = 0; i < 60; i++) {
    const path = ['/record/list', '/record/get', '/record/frames'][i % 3]!;
    const query = `camera=${pick()}${pick()}&start=${pick()}${pick()}&duration=${pick()}&end=${pick()}&fps=${pick()}&${pick()}=${pick()}`;
    const response = await fetch(`${relay.baseUrl}${path}?${query}`);
    const body = Buffer.from(await response.arrayBuffer());
    t.ok(response.status < 500, `${path}?${query}: ${response.status}`);
    if (response.status >= 400 && response.status !== 431) t.match(JSON.parse(body.toString()), { code: String, message: String });
  }
});
