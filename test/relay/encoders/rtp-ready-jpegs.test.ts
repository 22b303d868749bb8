// Guards: camera JPEGs that RTP/JPEG cannot carry (Huffman tables, sampling, components, size) reached RTSP readers as nothing.
import { execFileSync } from 'node:child_process';
import PQueue from 'p-queue';
import t from 'tap';
import { parseJpegForRtp } from '../../../media/rtp/jpeg-packetizer.ts';
import { jpegUnit, type JpegUnit } from '../../../media/types.ts';
import { RtpReadyJpegs, type JpegSource } from '../../../relay/encoders/rtp-ready-jpegs.ts';
import { silentLogger } from '../../../lib/log.ts';
import { ProcessSlots } from '../../../lib/process-slots.ts';
import { waitFor } from '../../helpers/probe.ts';
import { startJpegFeed } from '../rtsp/fixtures.ts';

/** A grey JPEG from GStreamer's jpegenc (one component, which RTP/JPEG cannot carry), sent over and over at 10 fps. */
function greyFeed(): JpegSource & { stop(): void } {
  const jpeg = execFileSync('gst-launch-1.0', ['-q', 'videotestsrc', 'num-buffers=1', '!', 'video/x-raw,format=GRAY8,width=320,height=240',
    '!', 'jpegenc', '!', 'fdsink', 'fd=1'], { maxBuffer: 64 << 20, timeout: 20_000 });
  const listeners = new Set<(frame: JpegUnit) => void>();
  let latest: JpegUnit | undefined;
  const timer = setInterval(() => {
    latest = jpegUnit(jpeg, performance.now());
    for (const listener of listeners) listener(latest);
  }, 100);
  return {
    get latestFrame() {
      return latest;
    },
    subscribe: (listener) => (listeners.add(listener), () => listeners.delete(listener)),
    acquire: () => () => {},
    stop: () => clearInterval(timer),
  };
}

const cases: Array<[string, () => JpegSource & { stop(): void }, string, [number, number]]> = [
  ['optimised Huffman tables', () => startJpegFeed({ huffman: 'optimal' }), 'huffman', [40, 30]],
  ['4:4:4 sampling', () => startJpegFeed({ pixFmt: 'yuvj444p' }), 'sampling', [40, 30]],
  ['one grey component', greyFeed, 'components', [40, 30]],
  ['a side over 2040 pixels', () => startJpegFeed({ size: '2400x1200', rate: 5 }), 'size', [255, 128]],
];

for (const [what, start, reason, [widthBlocks, heightBlocks]] of cases) {
  t.test(`camera JPEGs with ${what} are re-encoded into ones RTP/JPEG carries`, async (t) => {
    const camera = start();
    const ready = new RtpReadyJpegs(camera, { name: 'cam', ffmpegPath: 'ffmpeg', maxFrameBytes: 16 << 20, startQueue: new PQueue({ concurrency: 4 }), processSlots: new ProcessSlots(4), log: silentLogger });
    t.teardown(async () => {
      await ready.close();
      camera.stop();
    });
    await waitFor(() => camera.latestFrame !== undefined, 10_000, 'the camera\'s first JPEG');
    const parsed = parseJpegForRtp(camera.latestFrame!.data);
    t.same('skip' in parsed && parsed.skip, reason, `the camera's own JPEGs are skipped for ${reason}`);
    const out: JpegUnit[] = [];
    ready.subscribe((frame) => out.push(frame));
    const release = ready.acquire();
    await waitFor(() => out.length >= 5, 15_000, 're-encoded JPEGs');
    release();
    const images = out.map((frame) => parseJpegForRtp(frame.data));
    t.same(images.filter((image) => 'skip' in image), [], 'every one fits RTP/JPEG');
    const first = images[0] as { widthBlocks: number; heightBlocks: number; type: number };
    t.same([first.widthBlocks, first.heightBlocks, first.type], [widthBlocks, heightBlocks, 1], 'at the camera\'s size (or fitted into 2040 pixels), 4:2:0');
    t.ok(out.every((frame, index) => index === 0 || frame.pts > out[index - 1]!.pts), 'with the camera\'s rising times');
    await waitFor(() => ready.reencoder.state === 'stopped', 5000, 'the re-encoder to stop when released');
  });
}
