import { execFile, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { FakeCamera, part, scripted, snapshot, STANDARD_PART } from '../test/adapters/http/fake-camera.ts';
import { sourceApi, startGstPublisher, stopChild, type PublisherCodec } from '../test/adapters/push/gst-publisher.ts';
import { GstRtspServer } from '../test/adapters/rtsp/gst-server.ts';
import { withCanonApp0 } from '../test/adapters/vbc/canon-jpegs.ts';
import { VbcSimulator } from '../test/adapters/vbc/simulator.ts';
import { jpegsToGray, type Reference } from '../test/helpers/quality-capture.ts';
import { gstPatternReference, testsrcReference } from '../test/helpers/quality-sources.ts';
import type { TestRelay } from '../test/helpers/relay.ts';
import { BenchCamera, makeJpegs } from './camera.ts';

const run = promisify(execFile);

/** One kind of camera for the quality table: its Camera block lines and the frames it sends. */
export interface QualityInput {
  readonly name: string;
  /** Lines inside `<Camera cam>`. */
  readonly camera: string;
  readonly width: number;
  readonly height: number;
  /** Frames per second the camera delivers (a polled camera: its poll rate). */
  readonly rate: number;
  /** The camera sends H.264, so `VideoCodec copy` applies. */
  readonly h264: boolean;
  /**
   * The camera's frames carry no timestamps (JPEG over HTTP or vbc, the synthetic camera), so the relay times them on
   * arrival: its outputs are judged against the delivery it saw. Sources with RTP or file timestamps are held to their rate.
   */
  readonly arrivalTimed?: boolean;
  /** Luma PSNR floor of the viewer's pictures against the reference (lower where the reference is the raw pattern a camera compresses first). */
  readonly psnrFloor: number;
  /** The reference frames for a capture starting now and lasting `seconds` (a source that never repeats needs the time). */
  reference(seconds: number): Promise<Reference>;
  /** Called once the relay runs (a pushing camera starts publishing). */
  started?(relay: TestRelay): Promise<void>;
  /** Extra relay.conf global lines (e.g. MediaPath). */
  readonly globals?: string;
  stop(): Promise<void>;
}

/** The looping 640x480 testsrc2 JPEGs of bench/camera.ts and their luma frames: the camera's own pictures. */
async function loopedJpegs(rate: number): Promise<{ jpegs: Buffer[]; reference: Reference }> {
  const jpegs = await makeJpegs(640, 480);
  return { jpegs, reference: { frames: await jpegsToGray(jpegs), loop: jpegs.length, rate } };
}

/** A GStreamer zone plate: busy rings that move every frame and repeat every 128 frames. */
const ZONE_PLATE = 'pattern=zone-plate kx2=8 ky2=8 kt=2';

async function gstReference(rate: number): Promise<Reference> {
  return gstPatternReference(ZONE_PLATE, 320, 240, rate, 300);
}

const PUSH_KEY = 'quality-bench-publish-key';

/** Every input kind the relay takes, by name. `files` is a media directory with pattern.mp4 and pattern.mjpeg. */
export const INPUTS: Record<string, () => Promise<QualityInput>> = {
  async synthetic() {
    const options = { width: 320, height: 240, rate: 25, pattern: 'testsrc2' };
    const started = Date.now();
    return {
      name: 'synthetic', arrivalTimed: true, camera: 'Source testsrc://?size=320x240&rate=25&pattern=testsrc2', width: 320, height: 240, rate: 25, h264: false, psnrFloor: 35,
      // The frames from 25 s before now (HLS starts a few segments back) to 10 s after the capture.
      reference: async (seconds) => {
        const elapsed = (Date.now() - started) / 1000;
        const from = Math.max(0, Math.floor((elapsed - 25) * 25));
        return testsrcReference(options, Math.ceil((elapsed + seconds + 10) * 25), from);
      },
      stop: async () => {},
    };
  },
  async 'http-mjpeg'() {
    const { jpegs, reference } = await loopedJpegs(25);
    const camera = new BenchCamera(jpegs, 25);
    await camera.start();
    return { name: 'HTTP MJPEG', arrivalTimed: true, camera: `Source ${camera.url}`, width: 640, height: 480, rate: 25, h264: false, psnrFloor: 35, reference: async () => reference, stop: () => camera.stop() };
  },
  async 'http-snapshots'() {
    const { jpegs } = await loopedJpegs(5);
    const camera = await FakeCamera.start({ '/snapshot.jpg': snapshot((n) => jpegs[n % jpegs.length]!) });
    const reference = { frames: await jpegsToGray(jpegs), loop: jpegs.length, rate: 5 };
    return { name: 'HTTP snapshots', arrivalTimed: true, camera: `Source ${camera.url('/snapshot.jpg')}\n  SnapshotInterval 0.2`, width: 640, height: 480, rate: 5, h264: false, psnrFloor: 35, reference: async () => reference, stop: () => camera.close() };
  },
  async 'canon-native'() {
    const { jpegs } = await loopedJpegs(10);
    const canon = jpegs.map((jpeg, i) => withCanonApp0(jpeg, i));
    const camera = await VbcSimulator.start({ jpegs: canon });
    const reference = { frames: await jpegsToGray(canon), loop: canon.length, rate: 10 };
    return { name: 'Canon native (vbc)', arrivalTimed: true, camera: `Source ${camera.url}\n  InputFrameRate 10`, width: 640, height: 480, rate: 10, h264: false, psnrFloor: 35, reference: async () => reference, stop: () => camera.close() };
  },
  async 'canon-http'() {
    const { jpegs, reference } = await loopedJpegs(25);
    const canon = { ...STANDARD_PART, delimiter: '--LivescopeImage' };
    const camera = await FakeCamera.start({
      '/-wvhttp-01-/GetOneShot': scripted({
        headers: { 'Content-Type': 'multipart/x-mixed-replace;boundary=--LivescopeImage', 'Livescope-Status': '0' },
        pieces: (i) => part(jpegs[i % jpegs.length]!, canon), intervalMs: 40, end: 'stall',
      }),
    });
    return { name: 'Canon HTTP (WebView)', arrivalTimed: true, camera: `Source ${camera.url('/-wvhttp-01-/GetOneShot?image_size=640x480&frame_count=no_limit')}`, width: 640, height: 480, rate: 25, h264: false, psnrFloor: 35, reference: async () => reference, stop: () => camera.close() };
  },
  async 'rtsp-h264'() {
    const server = await GstRtspServer.start({ codec: 'h264', fps: 25, pattern: ZONE_PLATE });
    const reference = await gstReference(25);
    return { name: 'RTSP H.264', camera: `Source ${server.url}`, width: 320, height: 240, rate: 25, h264: true, psnrFloor: 33, reference: async () => reference, stop: () => server.stop() };
  },
  async 'rtsp-jpeg'() {
    const server = await GstRtspServer.start({ codec: 'jpeg', fps: 25, pattern: ZONE_PLATE });
    const reference = await gstReference(25);
    return { name: 'RTSP JPEG', camera: `Source ${server.url}`, width: 320, height: 240, rate: 25, h264: false, psnrFloor: 25, reference: async () => reference, stop: () => server.stop() };
  },
  'push-vp8': () => pushed('vp8'),
  'push-h264': () => pushed('h264'),
  'push-jpeg': () => pushed('jpeg'),
  'vod-live-mp4': () => fileInput('vod-live MP4', 'pattern.mp4', true),
  'vod-live-mjpeg': () => fileInput('vod-live MJPEG', 'pattern.mjpeg?fps=25', false),
};

async function pushed(codec: PublisherCodec): Promise<QualityInput> {
  const reference = await gstReference(25);
  let publisher: ChildProcess | undefined;
  return {
    name: `pushed ${codec.toUpperCase()}`, camera: `Source push://\n  PublishKey ${PUSH_KEY}`, width: 320, height: 240, rate: 25, h264: codec === 'h264',
    psnrFloor: codec === 'jpeg' ? 25 : 30, globals: 'RTPPortRange 33100-33199', reference: async () => reference,
    async started(relay) {
      const id = (await sourceApi(relay.baseUrl, { action: 'new_utilization_id', key: PUSH_KEY })).json.utilization_id as string;
      const answer = await sourceApi(relay.baseUrl, { action: 'start_stream', key: PUSH_KEY, utilization_id: id, width: 320, height: 240, codec });
      const rtpPort = answer.json.rtp_port as number;
      publisher = startGstPublisher({ codec, host: '127.0.0.1', rtpPort, rtcpPort: rtpPort + 1, ssrc: answer.json.ssrc as number, pattern: ZONE_PLATE });
    },
    stop: async () => {
      if (publisher) await stopChild(publisher);
    },
  };
}

/** A media directory holding the looped bench JPEGs as an H.264 MP4 (10 s) and as a concatenated MJPEG file. */
export async function makePatternFiles(): Promise<{ dir: string; reference: Reference; cleanup(): Promise<void> }> {
  const { jpegs, reference } = await loopedJpegs(25);
  const dir = await mkdtemp(join(tmpdir(), 'relay-quality-media-'));
  const mjpeg = join(dir, 'pattern.mjpeg');
  await writeFile(mjpeg, Buffer.concat(Array.from({ length: 5 }, () => jpegs).flat()));
  await run('ffmpeg', ['-v', 'error', '-y', '-f', 'mjpeg', '-framerate', '25', '-i', mjpeg, '-c:v', 'libx264', '-crf', '16', '-g', '25', '-bf', '0',
    '-pix_fmt', 'yuv420p', join(dir, 'pattern.mp4')], { timeout: 120_000 });
  return { dir, reference, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

async function fileInput(name: string, file: string, h264: boolean): Promise<QualityInput> {
  const files = await makePatternFiles();
  return {
    name, camera: `Source vod-live://${file}\n  Loop yes\n  OnDemand no`, width: 640, height: 480, rate: 25, h264, psnrFloor: 35,
    globals: `MediaPath ${files.dir}`, reference: async () => files.reference, stop: () => files.cleanup(),
  };
}

/** An HTTP-FLV edge: another relay (in this process) pulls the HTTP MJPEG camera and serves FLV; this one copies it. */
INPUTS['flv-edge'] = async () => {
  const { startTestRelay } = await import('../test/helpers/relay.ts');
  const { jpegs, reference } = await loopedJpegs(25);
  const camera = new BenchCamera(jpegs, 25);
  await camera.start();
  const origin = await startTestRelay(`<Camera door>\n  Source ${camera.url}\n</Camera>\n<Stream door.flv>\n  Feed door\n  VideoBitRate 1000\n</Stream>\n`);
  return {
    name: 'HTTP-FLV edge', camera: `Source ${origin.baseUrl}/door.flv`, width: 640, height: 480, rate: 25, h264: true, psnrFloor: 35,
    reference: async () => reference,
    stop: async () => {
      await origin.stop();
      await camera.stop();
    },
  };
};
