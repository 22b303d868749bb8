/**
 * The picture-quality table: every input kind the relay takes x every output a viewer can open, each decoded as a
 * viewer gets it and compared with the camera's frames (PSNR, SSIM), with bit rate, frame rate, timing, size and HLS
 * segment durations. `node --import tsx bench/quality.ts [--inputs a,b] [--out bench/RESULTS.md]`.
 */
import { appendFile, readdir, readFile, stat } from 'node:fs/promises';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { unusedPort } from '../test/helpers/ports.ts';
import { captureVideo, deliveredTiming, hlsSegmentDurations, measureCapture, measureFile, measureMjpeg, measureSnapshots, type QualityReport } from '../test/helpers/quality-capture.ts';
import { FLOORS, asDelivered, floorFailures, type Expectation, type FrameTiming } from '../test/helpers/quality.ts';
import { startTestRelay, type TestRelay } from '../test/helpers/relay.ts';
import { INPUTS, type QualityInput } from './quality-inputs.ts';

const SEGMENT_SECONDS = 2;
const CAPTURE_SECONDS = 6;

interface Row {
  readonly input: string;
  readonly output: string;
  readonly report?: QualityReport;
  readonly configuredKbps?: number;
  readonly segments?: string;
  /** How the camera delivered during the capture (the relay's MJPEG passthrough of it, read at the same time). */
  readonly delivered?: FrameTiming;
  readonly failures: string[];
}

function config(input: QualityInput, bitRate: number, rtspPort: number, recordPath: string): string {
  const stream = (name: string, lines: string): string => `<Stream ${name}>\n  Feed cam\n${lines}</Stream>\n`;
  const encoded = `  VideoBitRate ${bitRate}\n`;
  return `RTSPPort ${rtspPort}\nRTSPUDPPortRange 46000-46099\nRecordPath ${recordPath}\n${input.globals ?? ''}
<Camera cam>
  ${input.camera}
  Record yes
  RecordSegmentSeconds 4
  RecordBitRate ${bitRate}
</Camera>
${stream('cam.flv', encoded)}${stream('cam.m3u8', `${encoded}  HLSSegmentTime ${SEGMENT_SECONDS}\n`)}${stream('cam-ll.m3u8', `${encoded}  HLSSegmentTime ${SEGMENT_SECONDS}\n  LowLatency yes\n`)}${stream('cam.mjpg', '')}${stream('cam.jpg', '')}${input.h264 ? stream('cam-copy.flv', '  VideoCodec copy\n') : ''}`;
}

async function waitLive(relay: TestRelay): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if ((await fetch(`${relay.baseUrl}/cam.jpg`)).status === 200) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error('the camera never went live');
}

/** Complete recording files (all but the newest, still being written), newest first. */
async function recordings(dir: string): Promise<string[]> {
  const files: Array<{ path: string; mtime: number }> = [];
  const walk = async (at: string): Promise<void> => {
    for (const entry of await readdir(at, { withFileTypes: true })) {
      const path = join(at, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (entry.name.endsWith('.mp4')) files.push({ path, mtime: (await stat(path)).mtimeMs });
    }
  };
  await walk(dir).catch(() => {});
  return files.sort((a, b) => b.mtime - a.mtime).slice(1).map((file) => file.path);
}

async function measureInput(key: string): Promise<Row[]> {
  let input: QualityInput;
  try {
    input = await INPUTS[key]!();
  } catch (error) {
    return [{ input: key, output: '–', failures: [`the camera did not start: ${(error as Error).message.split('\n')[0]}`] }];
  }
  const rows: Row[] = [];
  const recordPath = await mkdtemp(join(tmpdir(), 'relay-quality-rec-'));
  const bitRate = input.width >= 640 ? 1000 : 500;
  const rtspPort = await unusedPort();
  const relay = await startTestRelay(config(input, bitRate, rtspPort, recordPath));
  const base: Omit<Expectation, 'psnr'> = { width: input.width, height: input.height, fps: input.rate, everyFrame: true };
  const encoded: Expectation = { ...base, psnr: input.psnrFloor, kbps: bitRate };
  const attempt = async (output: string, measure: () => Promise<Omit<Row, 'input' | 'output'>>): Promise<void> => {
    try {
      rows.push({ input: input.name, output, ...(await measure()) });
    } catch (error) {
      rows.push({ input: input.name, output, failures: [`no measurement: ${(error as Error).message.split('\n')[0]!.slice(0, 160)}`] });
    }
    console.error(`${input.name} -> ${output}: ${JSON.stringify(rows.at(-1)!.failures)}`);
  };
  try {
    await input.started?.(relay);
    try {
      await waitLive(relay);
    } catch (error) {
      rows.push({ input: input.name, output: 'all', failures: [(error as Error).message] });
      return rows;
    }
    // Each capture is judged against what the camera delivered meanwhile, as the relay's own passthrough of it shows.
    const video = async (url: string, expected: Expectation, inputOptions: string[] = []) => {
      const reference = await input.reference(CAPTURE_SECONDS);
      const [capture, delivered] = await Promise.all([
        captureVideo(url, { seconds: CAPTURE_SECONDS, inputOptions }),
        deliveredTiming(`${relay.baseUrl}/cam.mjpg`, CAPTURE_SECONDS),
      ]);
      const report = await measureCapture(capture, reference);
      return { report, delivered, configuredKbps: expected.kbps, failures: floorFailures(report, input.arrivalTimed ? asDelivered(expected, delivered) : expected) };
    };
    const hls = async (name: string) => {
      const [measured, segments] = await Promise.all([video(`${relay.baseUrl}/${name}`, encoded), hlsSegmentDurations(`${relay.baseUrl}/${name}`, 10)]);
      const off = segments.durations.filter((d) => Math.abs(d - SEGMENT_SECONDS) > 0.1 * SEGMENT_SECONDS);
      const failures = [...measured.failures, ...(off.length > 0 || segments.target !== SEGMENT_SECONDS ? [`segments ${segments.durations.join('/')} s, target ${segments.target}`] : [])];
      return { ...measured, segments: `${segments.durations.map((d) => d.toFixed(2)).join(' ')} (target ${segments.target})`, failures };
    };
    await attempt('FLV', () => video(`${relay.baseUrl}/cam.flv`, encoded));
    if (input.h264) await attempt('FLV copy', () => video(`${relay.baseUrl}/cam-copy.flv`, { ...base, psnr: input.psnrFloor }));
    await attempt('HLS', () => hls('cam.m3u8'));
    await attempt('LL-HLS', () => hls('cam-ll.m3u8'));
    await attempt('MJPEG', async () => {
      const report = await measureMjpeg(`${relay.baseUrl}/cam.mjpg`, await input.reference(4), 4);
      return { report, failures: floorFailures(report, { ...base, psnr: input.psnrFloor, timing: 'rate' }) };
    });
    await attempt('JPEG', async () => {
      const report = await measureSnapshots(`${relay.baseUrl}/cam.jpg`, await input.reference(3), 10, 200);
      const failures = report.psnrMin < input.psnrFloor - FLOORS.worstFrameBelowMean ? [`worst snapshot ${report.psnrMin.toFixed(1)} dB`] : [];
      if (report.width !== input.width || report.height !== input.height) failures.push(`size ${report.width}x${report.height}`);
      return { report, failures };
    });
    await attempt('RTSP', () => video(`rtsp://127.0.0.1:${rtspPort}/cam.flv`, encoded, ['-rtsp_transport', 'tcp']));
    await attempt('recording', async () => {
      const [file] = await recordings(join(recordPath, 'cam'));
      if (!file) throw new Error('no complete recording segment');
      const report = await measureFile(file, await input.reference(0));
      return { report, configuredKbps: bitRate, failures: floorFailures(report, encoded) };
    });
    if (input.globals?.startsWith('MediaPath') && input.h264) {
      await attempt('/vod/ HLS', () => video(`${relay.baseUrl}/vod/pattern.mp4.m3u8`, { ...base, psnr: input.psnrFloor }));
    }
  } finally {
    await relay.stop();
    await input.stop();
    await rm(recordPath, { recursive: true, force: true });
  }
  return rows;
}

/** A failed floor in a few words, for the table (the bench prints the full sentences as it goes). */
function tag(failure: string): string {
  const tags: Array<[RegExp, string]> = [
    [/^PSNR/, 'PSNR'], [/^worst/, 'worst frame'], [/^SSIM/, 'SSIM'], [/kbit\/s for/, 'bit rate'], [/by the timestamps/, 'fps'],
    [/source's frames, expected/, 'content fps'], [/^a gap/, 'gaps'], [/out of order/, 'order'], [/bunched/, 'bursts'],
    [/repeat the source/, 'repeats'], [/never reached/, 'skips'], [/^segments/, 'segment durations'], [/^size/, 'size'],
  ];
  return tags.find(([pattern]) => pattern.test(failure))?.[1] ?? failure;
}

function table(rows: readonly Row[]): string {
  const lines = [
    '| input | output | PSNR dB mean / min | SSIM | kbit/s (configured) | fps: timestamps / content | jitter / max gap ms | camera delivered fps / max gap ms | size | HLS segments s | floors |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const row of rows) {
    const r = row.report;
    const cells = r
      ? [
          `${r.psnrMean.toFixed(1)} / ${r.psnrMin.toFixed(1)}`, r.ssimMean.toFixed(3), `${r.kbps.toFixed(0)}${row.configuredKbps ? ` (${row.configuredKbps})` : ''}`,
          `${r.fps.toFixed(2)} / ${r.contentFps?.toFixed(2) ?? '–'}`, `${r.jitterMs.toFixed(1)} / ${r.maxGapMs.toFixed(0)}`,
          row.delivered ? `${row.delivered.fps.toFixed(2)} / ${row.delivered.maxGapMs.toFixed(0)}` : '–', `${r.width}x${r.height}`,
        ]
      : ['–', '–', '–', '–', '–', '–', '–'];
    lines.push(`| ${row.input} | ${row.output} | ${cells.join(' | ')} | ${row.segments ?? ''} | ${row.failures.length === 0 ? 'met' : `**no**: ${row.failures.map(tag).join(', ')}`} |`);
  }
  return lines.join('\n');
}

const { values } = parseArgs({ options: { inputs: { type: 'string' }, out: { type: 'string', default: 'bench/RESULTS.md' }, note: { type: 'string', default: '' } } });
const keys = values.inputs ? values.inputs.split(',') : Object.keys(INPUTS);
for (const key of keys) if (!INPUTS[key]) throw new Error(`unknown input ${key}; known: ${Object.keys(INPUTS).join(', ')}`);
const started = Date.now();
const rows: Row[] = [];
for (const key of keys) rows.push(...(await measureInput(key)));
const minutes = ((Date.now() - started) / 60_000).toFixed(1);
const text = table(rows);
console.log(text);
const heading = '## Picture quality';
const existing = await readFile(values.out!, 'utf8').catch(() => '');
const intro = existing.includes(heading) ? '' : `\n${heading}\n\nbench/quality.ts: each input kind feeds one relay (in the bench process) with every output; each output is read as a viewer reads it (ffmpeg/ffprobe on the URL, copy mode, ${CAPTURE_SECONDS} s; MJPEG by HTTP, 4 s; JPEG polled 10 times), decoded, and every frame is matched to the source frame it looks most like (16x16 block means) and scored: luma PSNR and SSIM against it. The sources are the camera's own frames: the looped 640x480 testsrc2 JPEGs of bench/camera.ts (HTTP, Canon, vod-live, edge), the synthetic camera's JPEGs made again by the same ffmpeg arguments, or the raw GStreamer zone plate the RTSP and push peers encode (320x240). kbit/s is the video bytes over the captured span; fps by timestamps (MJPEG/JPEG: arrival) and by content (source frames advanced); jitter is the standard deviation of frame intervals. Video outputs of cameras whose frames carry no timestamps (HTTP, Canon, synthetic) are judged against what the camera delivered during the capture (read at the same time from the relay's MJPEG passthrough of it): a camera starved by the machine's load sends slower and in bursts, and the relay is not asked to do better than its camera. Floors (test/helpers/quality.ts): PSNR per input, bit rate ${FLOORS.kbpsLow}-${FLOORS.kbpsHigh}x configured, fps within ${FLOORS.fpsTolerance * 100}%, no gap over ${FLOORS.gapPeriods} frame periods, no repeated, skipped or reordered frame, HLS segments ${SEGMENT_SECONDS} s within 10%.\n`;
await appendFile(values.out!, `${intro}\n### ${new Date().toISOString()}\n\nCommand: \`node --import tsx bench/quality.ts${values.inputs ? ` --inputs ${values.inputs}` : ''}\` (${minutes} min)${values.note ? `. ${values.note}` : ''}\n\n${text}\n`);
process.exit(0);
