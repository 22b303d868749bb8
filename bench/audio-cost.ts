// What sound costs: the CPU of the one G.711 -> AAC converter of a PCMA camera (target <= 2% of a core), and the
// relay's CPU per delivered MB of HTTP-FLV fan-out with the sound and without it, side by side (target <= 10% more).
// A GStreamer RTSP camera sends H.264 and PCMA; the relay copies the picture (no video encoder in the figures) and
// serves cam.flv (with sound) and mute.flv (Audio no). CPU from /proc/PID/stat. Run by hand:
//   node --import tsx bench/audio-cost.ts [seconds=20] [viewers=20]
import http from 'node:http';
import { cpus, loadavg } from 'node:os';
import { sleep } from './clock.ts';
import { cpuSeconds, runBench } from './procs.ts';
import { GstRtspServer } from '../test/adapters/rtsp/gst-server.ts';
import { waitFor } from '../test/helpers/probe.ts';
import { configFile, runRelay } from '../test/helpers/relay-process.ts';

const seconds = Number(process.argv[2] ?? 20);
const viewers = Number(process.argv[3] ?? 20);

interface Encoder { kind: string; framesOut: number; pid: number | null }

/** `viewers` readers of `url` for `seconds` (after a 2 s warm-up); returns the bytes read in the window. */
async function fanOut(url: string, relayPid: number): Promise<{ megabytes: number; cpu: number }> {
  let counting = false;
  let bytes = 0;
  const requests = Array.from({ length: viewers }, () => http.get(url, (response) => response.on('data', (chunk: Buffer) => {
    if (counting) bytes += chunk.length;
  })));
  await sleep(2000);
  const cpuBefore = cpuSeconds(relayPid);
  counting = true;
  await sleep(seconds * 1000);
  counting = false;
  const cpu = cpuSeconds(relayPid) - cpuBefore;
  for (const request of requests) request.destroy();
  await sleep(500);
  return { megabytes: bytes / 1e6, cpu };
}

runBench(async () => {
  const camera = await GstRtspServer.start({ codec: 'h264', fps: 25, audio: 'pcma' });
  const relay = await runRelay(await configFile(`<Camera cam>\n Source ${camera.url}\n</Camera>\n`
    + '<Stream cam.flv>\n Feed cam\n Format flv\n VideoCodec copy\n</Stream>\n'
    + '<Stream mute.flv>\n Feed cam\n Format flv\n VideoCodec copy\n Audio no\n</Stream>\n'
    + '<Stream stat.json>\n Format status\n</Stream>\n'));
  try {
    const base = `http://127.0.0.1:${relay.port()}`;
    const audioEncoder = async (): Promise<Encoder | undefined> =>
      ((await (await fetch(`${base}/stat.json`)).json()) as { encoders: Encoder[] }).encoders.find((part) => part.kind === 'audio');
    // The converter starts with the first reader of a stream that needs it.
    const warm = http.get(`${base}/cam.flv`, (response) => response.resume());
    await waitFor(async () => ((await audioEncoder())?.framesOut ?? 0) > 50, 30_000, 'the G.711 -> AAC converter');
    const encoder = (await audioEncoder())!;
    const converterPid = encoder.pid;
    if (!converterPid) throw new Error(`no pid for the audio converter: ${JSON.stringify(encoder)}`);
    const load = loadavg()[0]!;
    const before = cpuSeconds(converterPid);
    await sleep(seconds * 1000);
    const converterPercent = ((cpuSeconds(converterPid) - before) / seconds) * 100;
    warm.destroy();

    const relayPid = relay.child.pid!;
    const withSound = await fanOut(`${base}/cam.flv`, relayPid);
    const without = await fanOut(`${base}/mute.flv`, relayPid);
    const perMb = (run: { megabytes: number; cpu: number }): number => (run.cpu * 1000) / run.megabytes;
    const lines = [
      `Machine: ${cpus().length} cores, load average ${load.toFixed(1)} at the start (shared machine); node ${process.version}.`,
      `Camera: GStreamer RTSP (test/adapters/rtsp/gst-server.ts), H.264 ball pattern 25 fps + PCMA 8 kHz 1 kHz tone; both streams copy the picture.`,
      `G.711 -> AAC converter (one ffmpeg, pid ${converterPid}): ${converterPercent.toFixed(2)}% of one core over ${seconds} s (target <= 2%).`,
      `FLV fan-out, ${viewers} viewers, ${seconds} s each:`,
      `| stream | delivered MB | relay CPU s | CPU ms per MB | CPU ms per viewer-second |`,
      `|---|---|---|---|---|`,
      ...[['cam.flv (with sound)', withSound], ['mute.flv (Audio no)', without]].map(([name, run]) => {
        const figures = run as { megabytes: number; cpu: number };
        return `| ${name as string} | ${figures.megabytes.toFixed(1)} | ${figures.cpu.toFixed(2)} | ${perMb(figures).toFixed(1)} | ${((figures.cpu * 1000) / (viewers * seconds)).toFixed(2)} |`;
      }),
      `Sound adds ${((perMb(withSound) / perMb(without) - 1) * 100).toFixed(1)}% to CPU per delivered MB (target <= 10%)`
        + ` and ${((withSound.cpu / without.cpu - 1) * 100).toFixed(1)}% to CPU per viewer-second (the sound is ${((1 - without.megabytes / withSound.megabytes) * 100).toFixed(0)}% of the bytes).`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    relay.child.kill('SIGTERM');
    await relay.exited;
    await camera.stop();
  }
});
