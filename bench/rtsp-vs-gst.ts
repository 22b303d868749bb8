// `node --import tsx bench/rtsp-vs-gst.ts [--readers 200] [--window 10]`: the relay's RTSP server against GStreamer's
// (gst-rtsp-server, one shared media) serving N TCP-interleaved readers of one 640x480 25 fps 1000 kbit/s H.264 stream.
// Each server's CPU is measured with 1 reader and with N; the difference per MB the N readers received is the cost of
// fanning out (GStreamer encodes in its own process and the relay does not, so totals are not comparable, differences are).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { sleep } from './clock.ts';
import { cpuSeconds, freePort, killAll, spawnTracked, stopTracked } from './procs.ts';
import { rtspReader, type ByteReader } from './rtsp-readers.ts';

const { values } = parseArgs({ options: { readers: { type: 'string', default: '200' }, window: { type: 'string', default: '10' } } });
const READERS = Number(values.readers);
const WINDOW_S = Number(values.window);
const WARMUP_MS = 3000;

/** CPU seconds per second of `pid` and MB per second the readers got, over the window, with `count` readers. */
async function measure(pid: number, count: number, open: () => Promise<ByteReader>): Promise<{ cpu: number; mbPerS: number }> {
  const readers: ByteReader[] = [];
  for (let i = 0; i < count; i++) readers.push(await open());
  await sleep(WARMUP_MS);
  const received = (): number => readers.reduce((sum, reader) => sum + reader.bytes, 0);
  const [cpu0, bytes0, t0] = [cpuSeconds(pid), received(), performance.now()];
  await sleep(WINDOW_S * 1000);
  const [cpu1, bytes1, seconds] = [cpuSeconds(pid), received(), (performance.now() - t0) / 1000];
  for (const reader of readers) reader.socket.destroy();
  await sleep(1500);
  return { cpu: (cpu1 - cpu0) / seconds, mbPerS: (bytes1 - bytes0) / 1e6 / seconds };
}

/** Marginal CPU seconds per delivered MB of N readers over 1 reader. */
async function fanoutCost(pid: number, open: () => Promise<ByteReader>): Promise<{ one: number; many: number; mbPerS: number; perMB: number }> {
  const one = await measure(pid, 1, open);
  const many = await measure(pid, READERS, open);
  return { one: one.cpu, many: many.cpu, mbPerS: many.mbPerS, perMB: (many.cpu - one.cpu) / many.mbPerS };
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'relay-bench-gst-'));
  const [httpPort, relayRtsp, gstPort] = [await freePort(), await freePort(), await freePort()];
  const conf = join(dir, 'relay.conf');
  await writeFile(conf, `HTTPPort ${httpPort}\nRTSPPort ${relayRtsp}\nMaxClients 0\n<Camera cam>\n Source testsrc://?size=640x480&rate=25\n</Camera>\n<Stream live.flv>\n Feed cam\n VideoFrameRate 25\n VideoSize 640x480\n VideoBitRate 1000\n</Stream>\n`);
  const relay = spawnTracked('node', ['relay/bin.mjs', '-c', conf]);
  const gstScript = fileURLToPath(new URL('./peers/gst-rtsp-shared.py', import.meta.url));
  const gst = spawnTracked('/usr/bin/python3', [gstScript, String(gstPort)], { stdio: ['pipe', 'ignore', 'pipe'] });
  try {
    await sleep(6000); // both listening, the relay's encoder running
    const relayCost = await fanoutCost(relay.pid!, () => rtspReader(relayRtsp, 'live.flv', 'trackID=0'));
    const gstCost = await fanoutCost(gst.pid!, () => rtspReader(gstPort, 'live', 'stream=0'));
    const row = (name: string, cost: typeof relayCost): string =>
      `| ${name} | ${(cost.one * 100).toFixed(1)} | ${(cost.many * 100).toFixed(1)} | ${cost.mbPerS.toFixed(2)} | ${cost.perMB.toFixed(4)} |`;
    const lines = [
      `## RTSP fan-out against GStreamer's RTSP server, ${new Date().toISOString()}`,
      '',
      `\`node --import tsx bench/rtsp-vs-gst.ts --readers ${READERS} --window ${WINDOW_S}\`: one 640x480 25 fps 1000 kbit/s H.264`,
      'stream, TCP-interleaved readers in the bench process; CPU of the server process (relay: node only, its encoder is',
      'an ffmpeg child; GStreamer: its process, x264enc included) with 1 reader and with N; bytes counted by the readers.',
      '',
      `| server | CPU % with 1 reader | CPU % with ${READERS} | MB/s to ${READERS} | CPU s per MB beyond 1 reader |`,
      '| --- | ---: | ---: | ---: | ---: |',
      row('relay', relayCost),
      row('gst-rtsp-server (shared media)', gstCost),
      '',
      `Relay ÷ GStreamer, CPU per delivered MB beyond one reader: **${(relayCost.perMB / gstCost.perMB).toFixed(2)}x**.`,
      '',
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    gst.stdin?.end();
    await stopTracked(gst);
    await stopTracked(relay);
    killAll();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
