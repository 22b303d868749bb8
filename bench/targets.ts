import type { ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { videoArgs } from '../relay/encoders/ffmpeg-args.ts';
import { sleep } from './clock.ts';
import type { StreamFormat } from './loadgen/viewer.ts';
import { childPids, freePort, spawnTracked, stopTracked } from './procs.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const NMS_APP = join(ROOT, 'node_modules/node-media-server/bin/app.js');

/** The servers the bench compares; `floor` is the minimal fan-out in bench/peers/floor.ts. */
export type TargetKind = 'relay' | 'floor' | 'mjpeg-proxy' | 'nms';

/** What a target transcodes to when the stream is FLV. */
export interface FlvSettings {
  readonly width: number;
  readonly height: number;
  readonly fps: number;
  readonly kbps: number;
}

/** A server under test, running as its own process. */
export interface RunningTarget {
  readonly kind: TargetKind;
  readonly port: number;
  readonly path: string;
  /** The serving node process, measured alone. */
  readonly pid: number;
  /** The transcoding ffmpeg (a child of the relay or floor, or the process pushing RTMP to NMS), measured apart. */
  ffmpegPid(): number | undefined;
  stop(): Promise<void>;
}

/** ffmpeg's arguments for one transcode, built by the relay's own function so every target encodes alike. */
export function benchVideoArgs(flv: FlvSettings): string[] {
  return videoArgs({
    codec: 'libx264', size: { width: flv.width, height: flv.height }, frameRate: flv.fps, bitRateKbps: flv.kbps,
    qMin: undefined, qMax: undefined, gopSize: 0, keyframeSeconds: 2,
  });
}

/** Reads the bench camera over HTTP, with the same input flags the relay gives its ffmpeg. */
function cameraInputArgs(cameraUrl: string): string[] {
  return [
    '-hide_banner', '-nostats', '-loglevel', 'error', '-fflags', '+genpts+nobuffer', '-use_wallclock_as_timestamps', '1',
    '-probesize', '32768', '-analyzeduration', '0', '-f', 'mpjpeg', '-i', cameraUrl,
  ];
}

/** Starts one target serving the camera as `format`; resolves once its port accepts requests. */
export async function startTarget(kind: TargetKind, format: StreamFormat, cameraUrl: string, flv: FlvSettings, logDir: string): Promise<RunningTarget> {
  const port = await freePort();
  const log = (name: string) => createWriteStream(join(logDir, `${name}.log`), { flags: 'a' });
  const extra: ChildProcess[] = [];
  let server: ChildProcess;
  let path: string;
  let cleanup = async (): Promise<void> => undefined;
  const nodeTs = (script: string, args: string[]): ChildProcess =>
    spawnTracked(process.execPath, ['--import', 'tsx', join(ROOT, script), ...args], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });

  if (kind === 'relay') {
    const dir = await mkdtemp(join(tmpdir(), 'relay-bench-'));
    const stream = format === 'mjpeg'
      ? '<Stream cam.mjpg>\n  Feed cam\n  Format mpjpeg\n</Stream>'
      : `<Stream cam.flv>\n  Feed cam\n  VideoFrameRate ${flv.fps}\n  VideoSize ${flv.width}x${flv.height}\n  VideoBitRate ${flv.kbps}\n</Stream>`;
    await writeFile(join(dir, 'relay.conf'), `HTTPPort ${port}\nHTTPBindAddress 127.0.0.1\nMaxClients 0\n`
      + `<Camera cam>\n  Source ${cameraUrl}\n</Camera>\n${stream}\n<Stream stat.html>\n  Format status\n</Stream>\n`);
    server = spawnTracked(process.execPath, ['--max-semi-space-size=4', join(ROOT, 'relay/bin.mjs'), '-c', join(dir, 'relay.conf')], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    path = format === 'mjpeg' ? '/cam.mjpg' : '/cam.flv';
    cleanup = () => rm(dir, { recursive: true, force: true });
  } else if (kind === 'floor') {
    const upstream = format === 'mjpeg' ? ['--source', cameraUrl]
      : ['--ffmpeg', JSON.stringify([...cameraInputArgs(cameraUrl), ...benchVideoArgs(flv), '-f', 'flv', '-flvflags', 'no_duration_filesize', '-flush_packets', '1', 'pipe:1'])];
    server = nodeTs('bench/peers/floor.ts', ['--port', String(port), '--format', format, ...upstream]);
    path = '/stream';
  } else if (kind === 'mjpeg-proxy') {
    server = nodeTs('bench/peers/mjpeg-proxy.ts', ['--port', String(port), '--source', cameraUrl]);
    path = '/stream';
  } else {
    const dir = await mkdtemp(join(tmpdir(), 'relay-bench-nms-'));
    const rtmpPort = await freePort();
    await writeFile(join(dir, 'config.json'), JSON.stringify({
      bind: '127.0.0.1', rtmp: { port: rtmpPort }, http: { port }, auth: { play: false, publish: false, secret: 'bench' },
      webadmin: { enable: false }, store: { path: join(dir, 'data') }, record: { auto: false, path: join(dir, 'record') },
    }));
    server = spawnTracked(process.execPath, [NMS_APP, '-c', join(dir, 'config.json'), '--no-admin'], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
    await waitForPort(port, server);
    const pusher = spawnTracked('ffmpeg', [...cameraInputArgs(cameraUrl), ...benchVideoArgs(flv), '-f', 'flv', `rtmp://127.0.0.1:${rtmpPort}/live/cam`]);
    pusher.stderr?.pipe(log('nms-pusher-ffmpeg'));
    extra.push(pusher);
    path = '/live/cam.flv';
    cleanup = () => rm(dir, { recursive: true, force: true });
  }
  server.stderr?.pipe(log(kind));
  await waitForPort(port, server);
  const pid = server.pid!;
  return {
    kind,
    port,
    path,
    pid,
    ffmpegPid: () => (extra[0]?.pid ?? childPids(pid, 'ffmpeg')[0]),
    async stop() {
      for (const child of extra) await stopTracked(child);
      await stopTracked(server);
      await cleanup();
    },
  };
}

/** Waits until something accepts connections on the port (or fails if the process exits first). */
async function waitForPort(port: number, child: ChildProcess, timeoutMs = 20_000): Promise<void> {
  const { connect } = await import('node:net');
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the server exited (code ${child.exitCode}) before listening on ${port}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => { socket.destroy(); resolve(true); });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    await sleep(50);
  }
  throw new Error(`nothing listened on ${port} within ${timeoutMs} ms`);
}
