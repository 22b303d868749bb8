// A/V offset per output: a file that flashes the picture white and beeps at the same instant once a second, served
// as an RTSP camera by GStreamer (AAC as is, then converted to PCMA), through the relay; each output recorded with
// ffmpeg, decoded, and the beep onset measured against the flash onset. Run by hand:
//   node --import tsx bench/av-offset.ts [recordSeconds=20]
import { spawn } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileOnsets, summarize, type OffsetSummary } from './av-onsets.ts';
import { sleep } from './clock.ts';
import { GstRtspServer } from '../test/adapters/rtsp/gst-server.ts';
import { waitFor } from '../test/helpers/probe.ts';
import { configFile, runRelay } from '../test/helpers/relay-process.ts';

const recordSeconds = Number(process.argv[2] ?? 20);
const SOURCE_SECONDS = recordSeconds + 40;
const dir = await mkdtemp(join(tmpdir(), 'av-offset-'));

function run(command: string, args: readonly string[]): Promise<void> {
  const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr.on('data', (chunk: Buffer) => (err = (err + chunk).slice(-2000)));
  return new Promise((resolve, reject) => child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${command} ${args.join(' ')}: ${code}\n${err}`)))));
}

/** Black 640x480 at 25 fps, a white frame for 0.1 s each second, a 1 kHz sine only during the same 0.1 s; no B-frames, as cameras send (ffmpeg's RTSP reader leaves their first times unset). */
async function makeSource(): Promise<string> {
  const file = join(dir, 'source.mp4');
  await run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y',
    '-f', 'lavfi', '-i', `color=c=black:s=640x480:r=25:d=${SOURCE_SECONDS},format=yuv420p,drawbox=x=0:y=0:w=iw:h=ih:color=white:t=fill:enable='lt(mod(t\\,1)\\,0.1)'`,
    '-f', 'lavfi', '-i', `aevalsrc='if(lt(mod(t\\,1)\\,0.1)\\,0.5*sin(2*PI*1000*t)\\,0)':s=48000:d=${SOURCE_SECONDS}`,
    '-c:v', 'libx264', '-preset', 'veryfast', '-bf', '0', '-g', '25', '-keyint_min', '25', '-sc_threshold', '0', '-pix_fmt', 'yuv420p',
    '-c:a', 'aac', '-b:a', '96k', '-ac', '1', '-shortest', file]);
  return file;
}

const AUDIO_PAY = {
  aac: 'aacparse ! rtpmp4gpay name=pay1 pt=97',
  pcma: 'aacparse ! avdec_aac ! audioconvert ! audioresample ! audio/x-raw,rate=8000,channels=1 ! alawenc ! rtppcmapay name=pay1',
} as const;

function launchLine(file: string, audio: keyof typeof AUDIO_PAY): string {
  return `( filesrc location=${file} ! qtdemux name=d d.video_0 ! queue ! h264parse ! rtph264pay name=pay0 pt=96 config-interval=-1 `
    + `d.audio_0 ! queue ! ${AUDIO_PAY[audio]} )`;
}

function stream(name: string, format: 'flv' | 'hls', extra = ''): string {
  return `<Stream ${name}>\n Feed cam\n Format ${format}\n${extra} VideoFrameRate 25\n VideoSize 640x480\n VideoBitRate 1000\n</Stream>\n`;
}

/** `ffmpeg -c copy` of `recordSeconds` of a URL into Matroska (keeps each track's times as the container gave them). */
async function record(url: string, name: string, inputArgs: readonly string[] = []): Promise<string> {
  const file = join(dir, `${name}.mkv`);
  await run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', ...inputArgs, '-i', url, '-t', String(recordSeconds), '-map', '0:v:0', '-map', '0:a:0', '-c', 'copy', file]);
  return file;
}

interface Row { readonly audio: string; readonly output: string; readonly summary: OffsetSummary }

async function measureCamera(source: string, audio: keyof typeof AUDIO_PAY): Promise<Row[]> {
  const camera = await GstRtspServer.start({ codec: 'h264', fps: 25, launch: launchLine(source, audio) });
  const relay = await runRelay(await configFile(`<Camera cam>\n Source ${camera.url}\n</Camera>\n${stream('cam.flv', 'flv')}${stream('cam.m3u8', 'hls')}${stream('ll.m3u8', 'hls', ' LowLatency yes\n')}<Stream copy.flv>\n Feed cam\n Format flv\n VideoCodec copy\n</Stream>\n<Stream stat.json>\n Format status\n</Stream>\n`));
  try {
    const base = `http://127.0.0.1:${relay.port()}`;
    // The camera's sound is out of its part (copied, or converted by an ffmpeg that had to start first), then HLS
    // gets a few segments with both tracks before a reader starts there.
    await waitFor(async () => ((await (await fetch(`${base}/stat.json`)).json()) as { encoders: Array<{ kind: string; framesOut: number }> })
      .encoders.some((part) => part.kind === 'audio' && part.framesOut > 20), 20_000, 'the camera\'s sound');
    await sleep(8000);
    const files = await Promise.all([
      record(camera.url, `${audio}-camera`, ['-rtsp_transport', 'tcp']),
      record(`${base}/cam.flv`, `${audio}-flv`),
      record(`${base}/cam.m3u8`, `${audio}-hls`),
      record(`${base}/ll.m3u8`, `${audio}-llhls`),
      record(`${base}/copy.flv`, `${audio}-copy-flv`),
    ]);
    const outputs = ['camera RTSP (floor)', 'HTTP-FLV', 'HLS (MPEG-TS)', 'LL-HLS (fMP4)', 'HTTP-FLV, VideoCodec copy'];
    const rows: Row[] = [];
    for (const [index, file] of files.entries()) rows.push({ audio, output: outputs[index]!, summary: summarize(await fileOnsets(file)) });
    return rows;
  } finally {
    relay.child.kill('SIGTERM');
    await relay.exited;
    await camera.stop();
  }
}

const loads = [loadavg()[0]!];
const source = await makeSource();
const rows: Row[] = [{ audio: 'aac', output: 'source file (control)', summary: summarize(await fileOnsets(source)) }];
for (const audio of ['aac', 'pcma'] as const) {
  rows.push(...(await measureCamera(source, audio)));
  loads.push(loadavg()[0]!);
}

const ms = (value: number): string => (Number.isNaN(value) ? '-' : value.toFixed(0));
console.log(`| camera audio | output | flashes/beeps/pairs | median offset ms (+ = sound late) | p95 abs ms | max abs ms | within 45 ms |`);
console.log('|---|---|---|---|---|---|---|');
for (const { audio, output, summary } of rows) {
  console.log(`| ${audio} | ${output} | ${summary.flashes}/${summary.beeps}/${summary.pairs} | ${ms(summary.medianMs)} | ${ms(summary.p95AbsMs)} | ${ms(summary.maxAbsMs)} | ${summary.pairs > 0 && summary.maxAbsMs <= 45 ? 'yes' : 'NO'} |`);
}
console.log(`\nload average (1 min) at start and after each camera: ${loads.map((load) => load.toFixed(1)).join(', ')}; files in ${dir}`);
process.exit(0);
