// A/V offset per output: a file that flashes the picture white and beeps at the same instant once a second, served
// as an RTSP camera by GStreamer (AAC as is, then converted to PCMA), through the relay; each output recorded with
// ffmpeg, decoded, and the beep onset measured against the flash onset; then the AAC camera again behind a proxy that
// hands on its sound 400 ms after its picture (RTCP sender reports say where it belongs). Run by hand:
//   node --import tsx bench/av-offset.ts [recordSeconds=20]
import { mkdtemp } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileOnsets, summarize, type OffsetSummary } from '../test/helpers/av-onsets.ts';
import { sleep } from './clock.ts';
import { GstRtspServer } from '../test/adapters/rtsp/gst-server.ts';
import { CutProxy } from '../test/helpers/cut-proxy.ts';
import { flashBeepLaunch, makeFlashBeepFile, run, type FlashBeepAudio } from '../test/helpers/flash-beep.ts';
import { waitFor } from '../test/helpers/probe.ts';
import { configFile, runRelay } from '../test/helpers/relay-process.ts';
import { recordWsRaw } from './ws-record.ts';

const recordSeconds = Number(process.argv[2] ?? 20);
const SOURCE_SECONDS = recordSeconds + 40;
const dir = await mkdtemp(join(tmpdir(), 'av-offset-'));

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

async function measureCamera(source: string, audio: FlashBeepAudio, soundDelayMs = 0): Promise<Row[]> {
  const camera = await GstRtspServer.start({ codec: 'h264', fps: 25, launch: flashBeepLaunch(source, audio) });
  const proxy = soundDelayMs > 0 ? await CutProxy.start(camera.port, 0, Math.random, { fromChannel: 2, delayMs: soundDelayMs }) : undefined;
  const cameraSource = proxy ? `rtsp://127.0.0.1:${proxy.port}/cam\n RTSPTransport tcp` : camera.url;
  const label = soundDelayMs > 0 ? `${audio}, sound ${soundDelayMs} ms late` : audio;
  const relay = await runRelay(await configFile(`<Camera cam>\n Source ${cameraSource}\n</Camera>\n${stream('cam.flv', 'flv')}${stream('cam.m3u8', 'hls')}${stream('ll.m3u8', 'hls', ' LowLatency yes\n')}<Stream copy.flv>\n Feed cam\n Format flv\n VideoCodec copy\n</Stream>\n<Stream stat.json>\n Format status\n</Stream>\n`), 120_000);
  try {
    const base = `http://127.0.0.1:${relay.port()}`;
    // The camera's sound is out of its part (copied, or converted by an ffmpeg that had to start first), then HLS
    // gets a few segments with both tracks before a reader starts there.
    await waitFor(async () => ((await (await fetch(`${base}/stat.json`)).json()) as { encoders: Array<{ kind: string; framesOut: number }> })
      .encoders.some((part) => part.kind === 'audio' && part.framesOut > 20), 20_000, 'the camera\'s sound');
    await sleep(8000);
    const files = await Promise.all([
      record(proxy ? `rtsp://127.0.0.1:${proxy.port}/cam` : camera.url, `${audio}-${soundDelayMs}-camera`, ['-rtsp_transport', 'tcp']),
      record(`${base}/cam.flv`, `${audio}-${soundDelayMs}-flv`),
      record(`${base}/cam.m3u8`, `${audio}-${soundDelayMs}-hls`),
      record(`${base}/ll.m3u8`, `${audio}-${soundDelayMs}-llhls`),
      record(`${base}/copy.flv`, `${audio}-${soundDelayMs}-copy-flv`),
      recordWsRaw(`ws://127.0.0.1:${relay.port()}/cam.flv.ws`, recordSeconds, join(dir, `${audio}-${soundDelayMs}-ws-raw.mp4`)),
    ]);
    const outputs = ['camera RTSP (floor)', 'HTTP-FLV', 'HLS (MPEG-TS)', 'LL-HLS (fMP4)', 'HTTP-FLV, VideoCodec copy', 'WebSocket raw (WebCodecs times)'];
    const rows: Row[] = [];
    for (const [index, file] of files.entries()) rows.push({ audio: label, output: outputs[index]!, summary: summarize(await fileOnsets(file)) });
    return rows;
  } finally {
    relay.child.kill('SIGTERM');
    await relay.exited;
    await proxy?.close();
    await camera.stop();
  }
}

const loads = [loadavg()[0]!];
const source = await makeFlashBeepFile(dir, SOURCE_SECONDS);
const rows: Row[] = [{ audio: 'aac', output: 'source file (control)', summary: summarize(await fileOnsets(source)) }];
for (const [audio, soundDelayMs] of [['aac', 0], ['pcma', 0], ['aac', 400]] as const) {
  rows.push(...(await measureCamera(source, audio, soundDelayMs)));
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
