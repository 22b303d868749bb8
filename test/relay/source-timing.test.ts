import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import t from 'tap';
import { adapterRegistrations } from '../../adapters/index.ts';
import { AdapterRegistry } from '../../adapters/registry.ts';
import type { AdapterSink } from '../../adapters/types.ts';
import { VP8_TRACK } from '../../media/types.ts';
import { GstRtspServer } from '../adapters/rtsp/gst-server.ts';
import { CutProxy } from '../helpers/cut-proxy.ts';
import { prng } from '../helpers/prng.ts';
import { startTestRelay } from '../helpers/relay.ts';

const run = promisify(execFile);

/** Decode times (ms) of the first `count` video packets ffprobe reads from a live URL. */
async function packetTimes(url: string, count: number): Promise<number[]> {
  const { stdout } = await run('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-read_intervals', `%+#${count}`,
    '-show_entries', 'packet=dts_time', '-of', 'csv=p=0', url], { timeout: 30_000 });
  return stdout.trim().split('\n').map((line) => Math.round(Number(line) * 1000));
}

// Guards: frames were stamped with their arrival time, so network jitter became jitter in the video.
t.test('an RTSP H.264 camera served with VideoCodec copy keeps its RTP frame spacing through network jitter', async (t) => {
  const camera = await GstRtspServer.start({ codec: 'h264', fps: 10 });
  const jittery = await CutProxy.start(camera.port, 120, prng(7));
  const relay = await startTestRelay(`<Camera cam>\n  Source rtsp://127.0.0.1:${jittery.port}/cam\n  RTSPTransport tcp\n</Camera>
<Stream cam.flv>\n  Feed cam\n  VideoCodec copy\n</Stream>\n`);
  t.teardown(async () => {
    await relay.stop();
    await jittery.close();
    await camera.stop();
  });
  const arrivals: number[] = [];
  const unsubscribe = relay.relay.feeds.get('cam')!.subscribe(() => arrivals.push(Date.now()));
  const times = await packetTimes(`${relay.baseUrl}/cam.flv`, 40);
  unsubscribe();
  const spacing = times.slice(1).map((time, i) => time - times[i]!);
  const arrivalSpacing = arrivals.slice(1).map((time, i) => time - arrivals[i]!);
  t.ok(times.length >= 30, `${times.length} packets read`);
  t.ok(spacing.every((gap) => gap >= 99 && gap <= 101), `every frame 100 ms apart, as the camera's clock says: ${spacing.join(' ')}`);
  const spread = Math.max(...arrivalSpacing) - Math.min(...arrivalSpacing);
  t.ok(spread > 40, `while arrivals were jittery (spacing spread ${spread} ms: ${arrivalSpacing.slice(0, 20).join(' ')})`);
});

/** VP8 frames from an IVF file (32-byte file header; each frame: 4-byte size, 8-byte pts, data). */
function ivfFrames(ivf: Buffer): Buffer[] {
  const frames: Buffer[] = [];
  for (let offset = 32; offset + 12 <= ivf.length;) {
    const size = ivf.readUInt32LE(offset);
    frames.push(ivf.subarray(offset + 12, offset + 12 + size));
    offset += 12 + size;
  }
  return frames;
}

t.test('VP8 from a source goes through the encoder with its timestamps: FLV H.264 at the source\'s rate', async (t) => {
  const { stdout } = await run('ffmpeg', ['-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=8', '-frames:v', '40',
    '-c:v', 'libvpx', '-g', '8', '-b:v', '300k', '-f', 'ivf', 'pipe:1'], { encoding: 'buffer', maxBuffer: 64 << 20 });
  const vp8 = ivfFrames(stdout);
  // Sent at an uneven pace (bursts and gaps) with timestamps 125 ms apart, as a pushing source's RTP clock gives them.
  const adapters = new AdapterRegistry([...adapterRegistrations, {
    schemes: ['vp8test'],
    create: () => ({
      kind: 'vp8-test',
      async run(sink: AdapterSink): Promise<void> {
        sink.onConnected();
        for (let i = 0; !sink.signal.aborted; i++) {
          const data = vp8[i % vp8.length]!;
          sink.onFrame({ track: VP8_TRACK, data, keyframe: (data[0]! & 1) === 0, pts: i * 125, dts: i * 125 });
          await new Promise((resolve) => setTimeout(resolve, i % 4 === 0 ? 300 : 55));
        }
      },
    }),
  }]);
  const relay = await startTestRelay(`<Camera pushed>\n  Source vp8test://\n</Camera>\n<Stream pushed.flv>\n  Feed pushed\n  VideoBitRate 200\n</Stream>\n`, { adapters });
  t.teardown(() => relay.stop());
  const times = await packetTimes(`${relay.baseUrl}/pushed.flv`, 16);
  const spacing = times.slice(1).map((time, i) => time - times[i]!);
  t.ok(spacing.every((gap) => gap >= 124 && gap <= 126), `8 fps by the source's clock: ${spacing.join(' ')}`);
});
