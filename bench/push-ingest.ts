// `npm run bench:push`: CPU of the relay's Node process ingesting one pushed 1280x720 stream at 2 Mbit/s (RTP from
// GStreamer through the /api/source handshake; moving SMPTE bars), and what 1% random packet loss does to the frames that reach viewers.
// The relay runs as its own process; ffmpeg (the FLV encoder of the loss run) is measured apart.
// Options: --window 20 (seconds measured per run)  --runs vp8,h264,vp8-loss  --out bench/RESULTS.md
import { appendFile, mkdtemp, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { sleep } from './clock.ts';
import { childPids, cpuSeconds, freePort, runBench, spawnTracked, stopTracked } from './procs.ts';

const relayBin = fileURLToPath(new URL('../relay/bin.mjs', import.meta.url));
const resultsFile = fileURLToPath(new URL('./RESULTS.md', import.meta.url));
const KEY = 'bench-push-publish-key';
const RATE = 25;
const KBPS = 2000;

interface Run {
  readonly label: string;
  readonly nodeCpuPercent: number;
  readonly ffmpegCpuPercent: number;
  readonly inputKbps: number;
  readonly framesIn: number;
  readonly framesSent: number;
  readonly flvBytes: number;
  /** The relay's own account of the stream (get_data): losses, dropped frames, keyframe requests, rejected packets. */
  readonly reception: string;
}

const ENCODERS: Record<string, string[]> = {
  vp8: ['vp8enc', 'deadline=1', 'cpu-used=16', `keyframe-max-dist=${RATE * 2}`, `target-bitrate=${KBPS * 1000}`, '!', 'rtpvp8pay', 'pt=96'],
  h264: ['x264enc', 'tune=zerolatency', 'speed-preset=ultrafast', `key-int-max=${RATE * 2}`, `bitrate=${KBPS}`, '!', 'rtph264pay', 'pt=96', 'config-interval=-1'],
};

async function api(port: number, body: object): Promise<Record<string, unknown>> {
  const response = await fetch(`http://127.0.0.1:${port}/api/source`, { method: 'POST', body: JSON.stringify(body) });
  return (await response.json()) as Record<string, unknown>;
}

async function camera(port: number): Promise<{ framesIn: number; inputKbps: number | null }> {
  const stat = (await (await fetch(`http://127.0.0.1:${port}/stat.json`)).json()) as { cameras: Array<{ framesIn: number; inputKbps: number | null }> };
  return stat.cameras[0]!;
}

async function measure(codec: string, lossPercent: number, windowSeconds: number): Promise<Run> {
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), 'relay-bench-push-'));
  const config = join(dir, 'relay.conf');
  // A push camera's key opens nothing without a Stream (4051). The ingest-only runs get an MJPEG stream, which decodes
  // only while watched (an FLV stream's encoder runs from the start); the loss run has an FLV stream and a viewer.
  const watched = lossPercent > 0;
  const flv = watched ? '<Stream cam.flv>\n  Feed cam\n  VideoSize 1280x720\n  VideoBitRate 2000\n</Stream>\n' : '<Stream cam.mjpg>\n  Feed cam\n</Stream>\n';
  await writeFile(config, `HTTPPort ${port}\nRTPPortRange 36000-36099\n<Camera cam>\n  Source push://\n  PublishKey ${KEY}\n</Camera>\n${flv}<Stream stat.html>\n  Format status\n</Stream>\n`);
  const relay = spawnTracked(process.execPath, [relayBin, '-c', config]);
  let publisher: ReturnType<typeof spawnTracked> | undefined;
  let viewer: (() => void) | undefined;
  try {
    for (let tries = 0; !(await fetch(`http://127.0.0.1:${port}/stat.json`).then((r) => r.ok, () => false)); tries++) {
      if (tries > 100) throw new Error('the relay did not start');
      await sleep(100);
    }
    const id = (await api(port, { action: 'new_utilization_id', key: KEY })).utilization_id;
    const started = await api(port, { action: 'start_stream', key: KEY, utilization_id: id, width: 1280, height: 720, codec });
    const rtpPort = started.rtp_port as number;
    const loss = lossPercent > 0 ? ['!', 'identity', `drop-probability=${lossPercent / 100}`] : [];
    // The payloader (last in ENCODERS) sends with the SSRC start_stream assigned; rtpsink shares one socket between its RTCP udpsink and udpsrc (symmetric RTCP): the relay's keyframe requests reach the encoder.
    publisher = spawnTracked('gst-launch-1.0', ['-q',
      'videotestsrc', 'is-live=true', 'pattern=smpte', 'horizontal-speed=8', '!', `video/x-raw,format=I420,width=1280,height=720,framerate=${RATE}/1`, '!',
      ...ENCODERS[codec]!, `ssrc=${started.ssrc as number}`, ...loss, '!', 'rtpsink', `uri=rtp://127.0.0.1:${rtpPort}`]);
    await sleep(4000);
    let flvBytes = 0;
    if (watched) {
      const req = request({ host: '127.0.0.1', port, path: '/cam.flv' }, (response) => response.on('data', (chunk: Buffer) => (flvBytes += chunk.length)));
      req.on('error', () => {});
      req.end();
      viewer = () => req.destroy();
      await sleep(2000);
      flvBytes = 0;
    }
    const ffmpegs = (): number[] => childPids(relay.pid!, 'ffmpeg');
    const nodeBefore = cpuSeconds(relay.pid!);
    const ffmpegBefore = new Map(ffmpegs().map((pid) => [pid, cpuSeconds(pid)]));
    const framesBefore = (await camera(port)).framesIn;
    const began = Date.now();
    await sleep(windowSeconds * 1000);
    const seconds = (Date.now() - began) / 1000;
    const after = await camera(port);
    const data = (await api(port, { action: 'get_data', utilization_id: id, data: 'stream' })).data as Record<string, number>;
    const reception = `lost ${data.lost_packets}, dropped ${data.dropped_frames}, PLI ${data.keyframe_requests}, RTCP in ${data.rtcp_in}, other SSRC ${data.wrong_ssrc_packets}`;
    let ffmpegUsed = 0;
    for (const pid of ffmpegs()) ffmpegUsed += cpuSeconds(pid) - (ffmpegBefore.get(pid) ?? cpuSeconds(pid));
    return {
      label: `${codec}${lossPercent > 0 ? `, ${lossPercent}% loss, one FLV viewer` : ''}`,
      nodeCpuPercent: ((cpuSeconds(relay.pid!) - nodeBefore) / seconds) * 100,
      ffmpegCpuPercent: (ffmpegUsed / seconds) * 100,
      inputKbps: after.inputKbps ?? 0,
      framesIn: after.framesIn - framesBefore,
      framesSent: Math.round(seconds * RATE),
      flvBytes,
      reception,
    };
  } finally {
    viewer?.();
    if (publisher) await stopTracked(publisher);
    await stopTracked(relay);
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({ args: process.argv.slice(2), options: { window: { type: 'string', default: '20' }, runs: { type: 'string', default: 'vp8,h264,vp8-loss' }, out: { type: 'string', default: resultsFile } } });
  const windowSeconds = Number(values.window);
  const runs: Run[] = [];
  for (const name of values.runs.split(',')) {
    const [codec, loss] = [name.replace(/-loss$/, ''), name.endsWith('-loss') ? 1 : 0];
    if (!ENCODERS[codec]) throw new Error(`--runs: unknown run ${name} (vp8, h264, vp8-loss, h264-loss)`);
    const run = await measure(codec, loss, windowSeconds);
    runs.push(run);
    process.stdout.write(`  ${run.label}: relay Node ${run.nodeCpuPercent.toFixed(2)}% of a core, ${run.inputKbps} kbit/s in, ${run.framesIn}/${run.framesSent} frames\n`);
  }
  const argv = process.argv.slice(2);
  const text = [
    `\n## ${new Date().toISOString()}: push ingest (1280x720 at ${RATE} fps, ${KBPS} kbit/s, RTP from GStreamer)`,
    '',
    `Command: \`npm run bench:push${argv.length ? ` -- ${argv.join(' ')}` : ''}\``,
    `Machine: ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), node ${process.version}. GStreamer (videotestsrc, the encoder, rtpbin) runs beside the relay`,
    `on the same cores, sending through rtpsink (RTCP both ways on one socket, keyframe requests honoured); CPU of the relay's Node process over ${windowSeconds} s; ffmpeg apart.`,
    'Loss: `identity drop-probability` before rtpsink.',
    '',
    '| run | relay Node CPU (% of a core) | ffmpeg CPU (%) | input kbit/s | frames to the Feed / frames sent | FLV bytes to the viewer | reception (whole stream) |',
    '|---|---|---|---|---|---|---|',
    ...runs.map((run) => `| ${run.label} | ${run.nodeCpuPercent.toFixed(2)} | ${run.ffmpegCpuPercent.toFixed(1)} | ${run.inputKbps} | ${run.framesIn} / ${run.framesSent} | ${run.flvBytes} | ${run.reception} |`),
    '',
  ].join('\n');
  await appendFile(values.out, text);
  process.stdout.write(`${text}\nappended to ${values.out}\n`);
}

runBench(main);
