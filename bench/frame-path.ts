/**
 * Which source files one frame of an RTSP H.264 camera passes through on its way to an FLV viewer of a
 * `VideoCodec copy` stream. The relay runs in this process under V8's precise coverage (call counts): over a window,
 * a file is on the frame's path when one of its functions ran at least once per frame the camera sent.
 * Run by hand: `npx tsx bench/frame-path.ts` (needs GStreamer's RTSP server, as the tests do).
 */
import { Session } from 'node:inspector/promises';
import { fileURLToPath } from 'node:url';
import { GstRtspServer } from '../test/adapters/rtsp/gst-server.ts';
import { openViewer, waitFor } from '../test/helpers/probe.ts';
import { startTestRelay } from '../test/helpers/relay.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const WINDOW_MS = 5_000;

interface Coverage {
  result: Array<{ url: string; functions: Array<{ functionName: string; ranges: Array<{ count: number }> }> }>;
}

/** Project files (no tests, no bench) with the most calls of any one of their functions in the window. */
function callsByFile(coverage: Coverage): Map<string, number> {
  const calls = new Map<string, number>();
  for (const script of coverage.result) {
    if (!script.url.startsWith('file://')) continue;
    const file = fileURLToPath(script.url);
    if (!file.startsWith(ROOT) || /node_modules|\/bench\/|\/test\//.test(file)) continue;
    const most = Math.max(0, ...script.functions.map((fn) => fn.ranges[0]?.count ?? 0));
    calls.set(file.slice(ROOT.length), most);
  }
  return calls;
}

const session = new Session();
session.connect();
await session.post('Profiler.enable');
await session.post('Profiler.startPreciseCoverage', { callCount: true, detailed: false });
const camera = await GstRtspServer.start({ codec: 'h264', fps: 10 });
const relay = await startTestRelay(`<Camera cam>\n Source ${camera.url}\n</Camera>\n<Stream cam.flv>\n Feed cam\n VideoCodec copy\n</Stream>\n`);
try {
  const viewer = await openViewer(`${relay.baseUrl}/cam.flv`);
  const feed = relay.relay.feeds.get('cam')!;
  await waitFor(() => viewer.bytes > 10_000, 20_000, 'video at the viewer');
  await session.post('Profiler.takePreciseCoverage'); // resets the counts
  const before = feed.counters.framesIn;
  await new Promise((resolve) => setTimeout(resolve, WINDOW_MS));
  const coverage = (await session.post('Profiler.takePreciseCoverage')) as unknown as Coverage;
  const frames = feed.counters.framesIn - before;
  viewer.close();
  const onPath = [...callsByFile(coverage)].filter(([, calls]) => calls >= frames).map(([file]) => file).sort();
  console.log(`${frames} frames in ${WINDOW_MS / 1000} s; ${onPath.length} files ran at least once per frame:`);
  for (const file of onPath) console.log(`  ${file}`);
} finally {
  await relay.stop();
  await camera.stop();
  session.disconnect();
}
