// A/V offset per output: a file that flashes the picture white and beeps at the same instant once a second, served
// as an RTSP camera by GStreamer (AAC as is, then converted to PCMA), through the relay; each output recorded with
// ffmpeg, decoded, and the beep onset measured against the flash onset; then the AAC camera again behind a proxy that
// hands on its sound 400 ms after its picture (RTCP sender reports say where it belongs). With `faults`, the AAC and
// PCMA cameras instead go through two faults each, FLV, HLS and LL-HLS recorded again after each recovery: the
// camera's RTSP server stopped for 5 s and started again, then the stream encoder's ffmpeg killed (SIGKILL). Run by hand:
//   node --import tsx bench/av-offset.ts [recordSeconds=20] [faults]
import { mkdtemp } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileOnsets, summarize, type OffsetSummary } from '../test/helpers/av-onsets.ts';
import { sleep } from './clock.ts';
import { GstRtspServer } from '../test/adapters/rtsp/gst-server.ts';
import { CutProxy } from '../test/helpers/cut-proxy.ts';
import { flashBeepLaunch, makeFlashBeepFile, run, type FlashBeepAudio } from '../test/helpers/flash-beep.ts';
import { openViewer, waitFor } from '../test/helpers/probe.ts';
import { configFile, runRelay } from '../test/helpers/relay-process.ts';
import { recordWsRaw } from './ws-record.ts';

const recordSeconds = Number(process.argv[2] ?? 20);
const faults = process.argv[3] === 'faults';
/** The file plays from its start each time the camera's server starts; with faults it must last through two recordings. */
const SOURCE_SECONDS = faults ? 2 * recordSeconds + 90 : recordSeconds + 40;
/** How long the camera's RTSP server stays down in the outage fault. */
const OUTAGE_MS = 5000;
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

interface EncoderFigures { id: string; kind: string; camera: string; pid: number | null; framesOut: number }
interface CameraFigures { name: string; state: string; lastFrameAgeSeconds: number | null; audio: { lastFrameAgeSeconds: number | null } | null }
interface Status { encoders: EncoderFigures[]; cameras: CameraFigures[] }

async function measureCamera(source: string, audio: FlashBeepAudio, soundDelayMs = 0): Promise<Row[]> {
  let camera = await GstRtspServer.start({ codec: 'h264', fps: 25, launch: flashBeepLaunch(source, audio) });
  const proxy = soundDelayMs > 0 ? await CutProxy.start(camera.port, 0, Math.random, { fromChannel: 2, delayMs: soundDelayMs }) : undefined;
  // Faults: the relay keeps one camera URL while the camera's server restarts on another port.
  const forwarder = faults ? await CutProxy.start(camera.port) : undefined;
  const cameraSource = proxy ? `rtsp://127.0.0.1:${proxy.port}/cam\n RTSPTransport tcp` : forwarder ? `rtsp://127.0.0.1:${forwarder.port}/cam` : camera.url;
  const label = soundDelayMs > 0 ? `${audio}, sound ${soundDelayMs} ms late` : audio;
  const relay = await runRelay(await configFile(`<Camera cam>\n Source ${cameraSource}\n</Camera>\n${stream('cam.flv', 'flv')}${stream('cam.m3u8', 'hls')}${stream('ll.m3u8', 'hls', ' LowLatency yes\n')}<Stream copy.flv>\n Feed cam\n Format flv\n VideoCodec copy\n</Stream>\n<Stream stat.json>\n Format status\n</Stream>\n`), 120_000);
  const base = `http://127.0.0.1:${relay.port()}`;
  const status = async (): Promise<Status> => (await (await fetch(`${base}/stat.json`)).json()) as Status;
  /** The camera's picture and sound arriving, and its sound out of its part (copied, or converted by an ffmpeg). */
  const flowing = async (): Promise<boolean> => {
    const { cameras, encoders } = await status();
    const cam = cameras.find((entry) => entry.name === 'cam');
    return cam?.state === 'live' && (cam.lastFrameAgeSeconds ?? 9) < 1 && (cam.audio?.lastFrameAgeSeconds ?? 9) < 1
      && encoders.some((part) => part.kind === 'audio' && part.framesOut > 20);
  };
  // Viewers that stay through the faults, so that the encoders are wanted throughout.
  const holders = faults ? await Promise.all(['cam.flv', 'copy.flv'].map((name) => openViewer(`${base}/${name}`))) : [];
  const playlistPoll = faults ? setInterval(() => void Promise.all(['cam.m3u8', 'll.m3u8'].map((name) => fetch(`${base}/${name}`).then((r) => r.arrayBuffer()).catch(() => {}))), 1000) : undefined;
  try {
    // HLS gets a few segments with both tracks before a reader starts there.
    await waitFor(flowing, 20_000, 'the camera\'s sound');
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
    if (!forwarder) return rows;

    /** FLV, HLS and LL-HLS recorded once the camera flows again and HLS has fresh segments. */
    const afterRecovery = async (fault: string, since: number): Promise<void> => {
      await waitFor(flowing, 60_000, `the camera after ${fault}`);
      const recoveredMs = Date.now() - since;
      await sleep(8000);
      const tag = `${audio}-${fault.replace(/\W+/g, '-')}`;
      const after = await Promise.all([record(`${base}/cam.flv`, `${tag}-flv`), record(`${base}/cam.m3u8`, `${tag}-hls`), record(`${base}/ll.m3u8`, `${tag}-llhls`)]);
      for (const [index, file] of after.entries()) {
        rows.push({ audio: `${label}, after ${fault} (back in ${(recoveredMs / 1000).toFixed(1)} s)`, output: outputs[index + 1]!, summary: summarize(await fileOnsets(file)) });
      }
    };
    await camera.stop();
    await sleep(OUTAGE_MS);
    camera = await GstRtspServer.start({ codec: 'h264', fps: 25, launch: flashBeepLaunch(source, audio) });
    forwarder.targetPort = camera.port;
    await afterRecovery(`a ${OUTAGE_MS / 1000} s camera outage`, Date.now());

    const killedAt = Date.now();
    const killed = (await status()).encoders.filter((part) => part.kind === 'video' && part.camera === 'cam' && part.pid !== null);
    if (killed.length === 0) throw new Error('no running video encoder to kill');
    for (const part of killed) process.kill(part.pid!, 'SIGKILL');
    // Recovery counts from the kill to the new encoder's pid (the camera itself never stopped).
    const oldPids = new Map(killed.map((part) => [part.id, part.pid]));
    await waitFor(async () => (await status()).encoders.filter((part) => oldPids.has(part.id))
      .every((part) => part.pid !== null && part.pid !== oldPids.get(part.id)), 30_000, 'the encoders restarted');
    await afterRecovery(`encoder SIGKILL (${killed.length} ffmpeg)`, killedAt);
    return rows;
  } finally {
    clearInterval(playlistPoll);
    for (const holder of holders) holder.close();
    relay.child.kill('SIGTERM');
    await relay.exited;
    await proxy?.close();
    await forwarder?.close();
    await camera.stop();
  }
}

const loads = [loadavg()[0]!];
const source = await makeFlashBeepFile(dir, SOURCE_SECONDS);
const rows: Row[] = [{ audio: 'aac', output: 'source file (control)', summary: summarize(await fileOnsets(source)) }];
const cameras = faults ? ([['aac', 0], ['pcma', 0]] as const) : ([['aac', 0], ['pcma', 0], ['aac', 400]] as const);
for (const [audio, soundDelayMs] of cameras) {
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
