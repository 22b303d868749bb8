import { execFile } from 'node:child_process';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t, { type Test } from 'tap';
import { decodeAudio } from '../../helpers/audio.ts';
import { fetchBytes, waitFor } from '../../helpers/probe.ts';
import { startTestRelayFor } from '../../helpers/relay.ts';
import { tempDir } from './fixtures.ts';

const run = promisify(execFile);
/** The tone beeps each second; over whole seconds its band stays well above this. */
const TONE_DB = -40;
/** Audio and video of one file end within this of each other: the last picture's and the last sound frame's lengths. */
const DURATION_TOLERANCE_S = 0.1;

const { dir, cleanup } = await tempDir('relay-record-sound-');
const relay = await startTestRelayFor(t, `
RecordPath ${dir}
RecordMinFreeSpace 0
<Camera tone>
  Source testsrc://?size=160x120&rate=10&audio=aac
  Record yes
  RecordFrameRate 10
  RecordSize 160x120
  RecordSegmentSeconds 2
</Camera>
<Camera quiet>
  Source testsrc://?size=160x120&rate=10
  Record yes
  RecordFrameRate 10
  RecordSize 160x120
  RecordSegmentSeconds 2
</Camera>
`, cleanup);

const list = async (camera: string) => JSON.parse((await fetchBytes(`${relay.baseUrl}/record/list?camera=${camera}`)).body.toString()) as Array<{ start: string; duration: number }>;
await waitFor(async () => (await list('tone'))[0]?.duration! >= 7 && (await list('quiet'))[0]?.duration! >= 3, 30_000, '7 s recorded');

/** Each stream's codec, start and duration as ffprobe reads them from the file's boxes. */
async function streamsOf(path: string): Promise<Array<{ codec_type: string; codec_name: string; start_time: string; duration: string }>> {
  const { stdout } = await run('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_type,codec_name,start_time,duration', '-of', 'json', path], { timeout: 30_000 });
  return (JSON.parse(stdout) as { streams: Array<{ codec_type: string; codec_name: string; start_time: string; duration: string }> }).streams;
}

async function closedSegments(camera: string): Promise<string[]> {
  const days = await readdir(join(dir, camera));
  const files = (await readdir(join(dir, camera, days[0]!))).sort().map((file) => join(dir, camera, days[0]!, file));
  return files.slice(0, -1); // the last one is still being written
}

/** A segment's UTC start from its path (camera/YYYY-MM-DD/HH-MM-SS.mmm.mp4), ms. */
function startOf(path: string): number {
  const [day, time] = path.split('/').slice(-2);
  return Date.parse(`${day}T${time!.replace('.mp4', '').replace(/-/g, ':').replace(/:(\d{3})$/, '.$1')}Z`);
}

/** Asserts an MP4 of the tone camera carries its AAC, the tone, and sound and picture over the same time. */
async function checkSound(t: Test, path: string, name: string): Promise<void> {
  const { readFile } = await import('node:fs/promises');
  const decoded = await decodeAudio(await readFile(path), 'file.mp4');
  t.equal(decoded.codec, 'aac', `${name}: AAC audio`);
  t.ok(decoded.toneDb > TONE_DB, `${name}: the 1 kHz tone is there (${decoded.toneDb.toFixed(1)} dBFS)`);
  t.ok(Math.abs(decoded.startTime - decoded.videoStartTime!) <= 0.045, `${name}: audio starts at ${decoded.startTime} s, video at ${decoded.videoStartTime} s`);
  const streams = await streamsOf(path);
  const audio = Number(streams.find((stream) => stream.codec_type === 'audio')!.duration);
  const video = Number(streams.find((stream) => stream.codec_type === 'video')!.duration);
  t.ok(Math.abs(audio - video) <= DURATION_TOLERANCE_S, `${name}: ${audio} s of audio, ${video} s of video`);
}

t.test('a recorded segment of a camera with sound holds its AAC beside the picture, in step', async (t) => {
  const segments = await closedSegments('tone');
  t.ok(segments.length >= 3, `${segments.length} closed segments`);
  // Not the first: the synthetic camera's sound begins about 0.2 s after its picture, and so does that segment's.
  for (const segment of segments.slice(1, 3)) await checkSound(t, segment, segment.slice(dir.length));
});

t.test('/record/get keeps the sound across the segments it stitches', async (t) => {
  // From the second segment's start to the fourth's: whole segments, so both ends are keyframes for either track.
  const [, second, , fourth] = (await closedSegments('tone')).map(startOf);
  const start = new Date(second!).toISOString();
  const response = await fetchBytes(`${relay.baseUrl}/record/get?camera=tone&start=${encodeURIComponent(start)}&duration=${((fourth! - second!) / 1000).toFixed(3)}`);
  t.equal(response.status, 200);
  const file = join(dir, 'get.mp4');
  await writeFile(file, response.body);
  await checkSound(t, file, '/record/get');
});

t.test('a camera without sound records video only', async (t) => {
  const [segment] = await closedSegments('quiet');
  const streams = await streamsOf(segment!);
  t.same(streams.map((stream) => stream.codec_type), ['video']);
});

t.test('/record/get from between two keyframes starts the sound with the picture', async (t) => {
  // Guards: a copy from mid-GOP began the picture at the keyframe before but the sound at the asked time (both at 0),
  // and one ending mid-fragment lost the sound stored after that fragment's picture.
  const [, second] = (await closedSegments('tone')).map(startOf);
  const start = new Date(second! + 700).toISOString();
  const response = await fetchBytes(`${relay.baseUrl}/record/get?camera=tone&start=${encodeURIComponent(start)}&duration=2`);
  t.equal(response.status, 200);
  const file = join(dir, 'mid-gop.mp4');
  await writeFile(file, response.body);
  await checkSound(t, file, '/record/get mid-GOP');
});
