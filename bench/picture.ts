// Bench: what an FLV viewer gets from each input kind, against what the camera sent: encoded kbit/s over the
// configured rate and mean luma PSNR of the decoded FLV against the source frames (testsrc2, 640x480, 25 fps).
// Run: npm run bench:picture -- [--seconds 8]
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { makeJpegFrames } from '../test/helpers/controllable-camera.ts';
import { lengthPrefixed } from '../test/helpers/media.ts';
import { MjpegCamera } from '../test/helpers/mjpeg-camera.ts';
import { captureStream, decodeLuma, matchedPsnr, packetFps, packetKbps, videoPackets } from '../test/helpers/picture.ts';
import { waitFor } from '../test/helpers/probe.ts';
import { startTestRelay } from '../test/helpers/relay.ts';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '8' } } });
const SECONDS = Number(values.seconds);
const WIDTH = 640;
const HEIGHT = 480;
const SETTLE_SECONDS = 1.5;

/** A camera that answers each GET with the next JPEG (a snapshot-only camera). */
async function snapshotCamera(frames: readonly Buffer[]): Promise<{ url: string; close: () => Promise<void> }> {
  let index = 0;
  const server = http.createServer((_request, response) => {
    const frame = frames[index++ % frames.length]!;
    response.writeHead(200, { 'Content-Type': 'image/jpeg', 'Content-Length': frame.length });
    response.end(frame);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/snapshot.jpg`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

const jpegs = makeJpegFrames(50, `${WIDTH}x${HEIGHT}`, 3, 'testsrc2');
const sources = await decodeLuma(Buffer.concat(jpegs), 'mjpeg', WIDTH, HEIGHT);
const media = await mkdtemp(join(tmpdir(), 'bench-picture-'));
await writeFile(join(media, 'cam.Mjpeg'), lengthPrefixed(jpegs));
execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'mjpeg', '-framerate', '25', '-i', 'pipe:0', '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '14',
  '-g', '25', '-bf', '0', '-pix_fmt', 'yuv420p', join(media, 'cam.mp4')], { input: Buffer.concat(jpegs) });
const mjpeg = await MjpegCamera.start({ frames: jpegs, rate: 25, jitterMs: 4 });
const snapshots = await snapshotCamera(jpegs);

const cases: Array<{ input: string; source: string; camera?: string; stream?: string; kbps: number; psnr?: false }> = [
  { input: 'HTTP MJPEG, no VideoFrameRate', source: mjpeg.url, kbps: 1000 },
  { input: 'HTTP MJPEG, VideoBitRate 800', source: mjpeg.url, stream: 'VideoBitRate 800', kbps: 800 },
  { input: 'HTTP MJPEG, VideoFrameRate 25', source: mjpeg.url, stream: 'VideoFrameRate 25', kbps: 1000 },
  { input: 'HTTP MJPEG, InputFrameRate 10', source: mjpeg.url, camera: 'InputFrameRate 10', kbps: 1000 },
  { input: 'HTTP snapshots every 0.1 s', source: snapshots.url, camera: 'SnapshotInterval 0.1', kbps: 1000 },
  { input: 'vod-live MJPEG, 5-digit lengths', source: 'vod-live://cam.Mjpeg?fps=25', camera: 'Loop yes', kbps: 1000 },
  { input: 'vod-live MP4 (H.264)', source: 'vod-live://cam.mp4', camera: 'Loop yes', kbps: 1000 },
  { input: 'synthetic testsrc2', source: 'testsrc://?size=640x480&rate=25&pattern=testsrc2', kbps: 1000, psnr: false },
];

const rows: string[] = [];
for (const run of cases) {
  const relay = await startTestRelay(`MediaPath ${media}\n<Camera cam>\n  Source ${run.source}\n  ${run.camera ?? ''}\n</Camera>\n<Stream cam.flv>\n  Feed cam\n  ${run.stream ?? ''}\n</Stream>\n`);
  try {
    await waitFor(async () => (await fetch(`${relay.baseUrl}/cam.flv`, { method: 'HEAD' })).ok, 15_000, 'the stream');
    const flv = await captureStream(`${relay.baseUrl}/cam.flv`, SECONDS * 1000);
    const packets = await videoPackets(flv, 'flv');
    const from = packets[0]!.pts + SETTLE_SECONDS;
    // The synthetic camera draws its own frames (no JPEGs to compare with): bit rate and rate only.
    const decoded = run.psnr === false ? [] : await decodeLuma(flv, 'flv', WIDTH, HEIGHT);
    const psnr = matchedPsnr(decoded.slice(packets.findIndex((packet) => packet.pts >= from)), sources, WIDTH);
    const mean = psnr.length ? (psnr.reduce((sum, value) => sum + value, 0) / psnr.length).toFixed(1) : 'n/a';
    const min = psnr.length ? Math.min(...psnr).toFixed(1) : 'n/a';
    const row = `| ${run.input} | ${run.kbps} | ${packetKbps(packets, from).toFixed(0)} | ${mean} | ${min} | ${packetFps(packets, from).toFixed(1)} |`;
    console.log(row);
    rows.push(row);
  } finally {
    await relay.stop();
  }
}
await mjpeg.close();
await snapshots.close();
await rm(media, { recursive: true, force: true });
console.log(['| input | configured kbit/s | encoded kbit/s | mean luma PSNR dB | min | fps |', '|---|---|---|---|---|---|', ...rows].join('\n'));
