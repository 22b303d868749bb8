import t from 'tap';
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { HttpAdapter } from '../../../adapters/http/adapter.ts';
import { AdapterError } from '../../../adapters/errors.ts';
import { isCompleteJpeg } from '../../../media/jpeg/splitter.ts';
import type { JpegUnit } from '../../../media/types.ts';
import { makeCameraConfig } from '../../helpers/camera-config.ts';
import { RecordingSink } from '../../helpers/sink.ts';
import { unusedPort } from '../../helpers/ports.ts';

const run = promisify(execFile);


/** ffmpeg serving a 10 fps 320x240 MJPEG stream to exactly one HTTP client (-listen 1), then exiting. */
async function startFfmpeg(extra: string[]): Promise<{ url: string; child: ChildProcess; exited: Promise<void> }> {
  const port = await unusedPort();
  const child = spawn('/usr/bin/ffmpeg', [
    '-hide_banner', '-nostdin', '-loglevel', 'error',
    '-re', '-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=10',
    '-c:v', 'mjpeg', '-q:v', '8', '-f', 'mpjpeg', ...extra, '-listen', '1', `http://127.0.0.1:${port}/stream`,
  ], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  return { url: `http://127.0.0.1:${port}/stream`, child, exited };
}

/** Runs the adapter until it connects; ffmpeg needs a moment before it listens, and a refused connect is not a client. */
async function runUntilConnected(url: string, sink: RecordingSink): Promise<{ running: Promise<void> }> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const running = new HttpAdapter(makeCameraConfig(url)).run(sink);
    const outcome = await Promise.race([running.then(() => 'resolved', (error: unknown) => error), sink.waitForFrames(1, 3000).then(() => 'frames', (error: unknown) => error)]);
    if (outcome === 'frames') return { running };
    if (!(outcome instanceof AdapterError && outcome.code === 'CONNECT') || Date.now() > deadline) throw outcome;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function probe(frame: Buffer, dir: string, name: string): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, frame);
  const { stdout } = await run('/usr/bin/ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_name,width,height', '-of', 'csv=p=0', file]);
  return stdout.trim();
}

for (const variant of [
  { name: 'ffmpeg default (application/octet-stream, boundary learned from the body)', extra: [] },
  { name: 'ffmpeg with a multipart Content-Type and boundary', extra: ['-content_type', 'multipart/x-mixed-replace;boundary=ffmpeg'] },
]) {
  t.test(`${variant.name}: decodable 320x240 frames at about 10 fps over one connection`, async (t) => {
    const ffmpeg = await startFfmpeg(variant.extra);
    const dir = await mkdtemp(join(tmpdir(), 'http-mjpeg-'));
    t.teardown(async () => {
      ffmpeg.child.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    });
    const sink = new RecordingSink();
    const { running } = await runUntilConnected(ffmpeg.url, sink);
    await sink.waitForFrames(31, 8000);
    const frames = sink.frames.slice(0, 31) as JpegUnit[];
    t.ok(frames.every((frame) => frame.track.codec === 'jpeg' && frame.keyframe && isCompleteJpeg(frame.data)), 'every frame is SOI..EOI');
    // The first frames arrive in a burst while ffmpeg's -re clock settles; measure over the later ones.
    const fps = 20 / ((frames[30]!.pts - frames[10]!.pts) / 1000);
    t.comment(`frame rate seen: ${fps.toFixed(2)} fps`);
    t.ok(fps > 8 && fps < 12, `about 10 fps (saw ${fps.toFixed(2)})`);
    t.equal(await probe(frames[3]!.data, dir, 'a.jpg'), 'mjpeg,320,240');
    t.equal(await probe(frames[25]!.data, dir, 'b.jpg'), 'mjpeg,320,240');
    t.not(Buffer.compare(frames[3]!.data, frames[25]!.data), 0, 'the picture changes');
    // Guards abort: run() resolves promptly and the socket closes, which makes the one-client ffmpeg exit.
    const stoppedAt = Date.now();
    sink.stop();
    await running;
    t.ok(Date.now() - stoppedAt < 500, 'run() resolved promptly after abort');
    await Promise.race([ffmpeg.exited, new Promise((_, reject) => setTimeout(() => reject(new Error('ffmpeg still serving')), 5000))]);
    t.pass('ffmpeg saw its only client disconnect and exited');
  });
}
