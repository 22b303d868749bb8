// `node --import tsx bench/rtsp-fanout.ts [--readers 200] [--window 10] [--rounds 2]`: the relay's CPU per delivered
// MB with N RTSP TCP-interleaved readers of one stream, against N HTTP FLV viewers of the same stream (same encoder,
// same bit rate), in alternating phases. Prints a Markdown section for bench/RESULTS.md.
import { writeFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { sleep } from './clock.ts';
import { cpuSeconds, freePort, killAll, spawnTracked, stopTracked } from './procs.ts';
import { httpReader, rtspReader, type ByteReader } from './rtsp-readers.ts';

const { values } = parseArgs({ options: { readers: { type: 'string', default: '200' }, window: { type: 'string', default: '10' }, rounds: { type: 'string', default: '2' } } });
const READERS = Number(values.readers);
const WINDOW_S = Number(values.window);
const ROUNDS = Number(values.rounds);
const WARMUP_MS = 3000;

async function stat(httpPort: number): Promise<{ flvBytes: number; rtspBytes: number; viewers: number }> {
  const json = (await (await fetch(`http://127.0.0.1:${httpPort}/stat.json`)).json()) as { streams: Array<{ name: string; bytesOut: number; viewers: number; protocols: { rtsp?: { bytesOut: number; viewers: number } } }> };
  const live = json.streams.find((stream) => stream.name === 'live.flv')!;
  return { flvBytes: live.bytesOut, rtspBytes: live.protocols.rtsp?.bytesOut ?? 0, viewers: live.viewers + (live.protocols.rtsp?.viewers ?? 0) };
}

/** One phase: N readers of one kind, warm-up, then CPU seconds and bytes delivered over the window. */
async function phase(kind: 'flv' | 'rtsp', pid: number, httpPort: number, rtspPort: number): Promise<{ cpuPerMB: number; mbPerS: number; cpuPercent: number }> {
  const readers: ByteReader[] = [];
  for (let i = 0; i < READERS; i++) readers.push(await (kind === 'flv' ? httpReader(httpPort, '/live.flv') : rtspReader(rtspPort, 'live.flv', 'trackID=0')));
  await sleep(WARMUP_MS);
  const bytes = async (): Promise<number> => ((await stat(httpPort))[kind === 'flv' ? 'flvBytes' : 'rtspBytes']);
  const cpu0 = cpuSeconds(pid);
  const bytes0 = await bytes();
  const t0 = performance.now();
  await sleep(WINDOW_S * 1000);
  const cpu1 = cpuSeconds(pid);
  const bytes1 = await bytes();
  const seconds = (performance.now() - t0) / 1000;
  for (const reader of readers) reader.socket.destroy();
  await sleep(1500);
  const mb = (bytes1 - bytes0) / 1e6;
  return { cpuPerMB: (cpu1 - cpu0) / mb, mbPerS: mb / seconds, cpuPercent: ((cpu1 - cpu0) / seconds) * 100 };
}

/** Polls /stat.json until the relay answers (20 s at most). */
async function relayAnswers(httpPort: number): Promise<boolean> {
  for (let attempt = 0; attempt < 100; attempt++) {
    try {
      await stat(httpPort);
      return true;
    } catch {
      await sleep(200);
    }
  }
  return false;
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'relay-bench-rtsp-'));
  const [httpPort, rtspPort] = [await freePort(), await freePort()];
  const conf = join(dir, 'relay.conf');
  await writeFile(conf, `HTTPPort ${httpPort}\nRTSPPort ${rtspPort}\nMaxClients 0\n<Camera cam>\n Source testsrc://?size=640x480&rate=25\n</Camera>\n<Stream live.flv>\n Feed cam\n VideoFrameRate 25\n VideoSize 640x480\n VideoBitRate 1000\n</Stream>\n<Stream stat.html>\n Format status\n</Stream>\n`);
  const relay = spawnTracked('node', ['relay/bin.mjs', '-c', conf]);
  try {
    const up = await relayAnswers(httpPort);
    if (!up || relay.pid === undefined) throw new Error('relay did not start');
    await sleep(3000); // encoder running
    const results: Record<'flv' | 'rtsp', Array<Awaited<ReturnType<typeof phase>>>> = { flv: [], rtsp: [] };
    for (let round = 0; round < ROUNDS; round++) {
      for (const kind of ['flv', 'rtsp'] as const) results[kind].push(await phase(kind, relay.pid, httpPort, rtspPort));
    }
    const flv = median(results.flv.map((r) => r.cpuPerMB));
    const rtsp = median(results.rtsp.map((r) => r.cpuPerMB));
    const lines = [
      `## RTSP fan-out, ${new Date().toISOString()}`,
      '',
      `\`node --import tsx bench/rtsp-fanout.ts --readers ${READERS} --window ${WINDOW_S} --rounds ${ROUNDS}\`: one 640x480 25 fps 1 Mbit/s`,
      'H.264 stream, N readers over loopback in the bench process, relay CPU (node process only, not ffmpeg) from',
      '/proc over the window, bytes from /stat.json. Phases alternate; medians of the rounds.',
      '',
      '| readers | protocol | relay CPU s per delivered MB | delivered MB/s | relay CPU % |',
      '| ---: | --- | ---: | ---: | ---: |',
      ...(['flv', 'rtsp'] as const).flatMap((kind) => results[kind].map((r) => `| ${READERS} | ${kind === 'flv' ? 'HTTP FLV' : 'RTSP TCP interleaved'} | ${r.cpuPerMB.toFixed(4)} | ${r.mbPerS.toFixed(2)} | ${r.cpuPercent.toFixed(1)} |`)),
      '',
      `RTSP ÷ FLV, CPU per delivered MB (medians): **${(rtsp / flv).toFixed(2)}x** (target: within 1.3x).`,
      '',
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    await stopTracked(relay);
    killAll();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
