import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { DIRECTIVES } from '../../conf/directives.ts';
import { sleep } from '../clock.ts';
import { percentile } from '../histogram.ts';
import { freePort, spawnTracked, stopTracked } from '../procs.ts';
import { ClockCamera } from './clock-camera.ts';
import { PATTERN } from './pattern.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const PROBE = fileURLToPath(new URL('./probe.js', import.meta.url));

/** Options of the latency group: seconds measured per player, page opens timed for the first frame. */
export interface LatencyOptions {
  readonly seconds: number;
  readonly opens: number;
  readonly logDir: string;
  /** Only the players whose label starts with one of these (all when absent). */
  readonly only?: readonly string[];
}

/** One way of watching the clock camera, opened as a viewer would open it. */
interface Player {
  readonly label: string;
  /** The page to open; the MJPEG row opens /stat.json (same origin, so the canvas can read the image) and adds an <img>. */
  readonly path: string;
  readonly image?: string;
  readonly warmupSeconds: number;
  readonly firstFrame: boolean;
  /** Script run before the page's own (e.g. hiding WebCodecs, to measure the player's MSE fallback). */
  readonly init?: string;
}

/** One measured row: latency samples (ms) and page-open-to-first-frame times (ms). */
export interface LatencyRow {
  readonly label: string;
  readonly samples: number[];
  readonly unreadable: number;
  readonly firstFrames: number[];
  /** Video held ahead of the playhead (ms) at each frame, for players with a <video>; empty otherwise. */
  readonly bufferedAhead?: number[];
  /** Times the <video> ran dry ('waiting') while measured. */
  readonly stalls?: number;
  readonly note?: string;
}

/** Does the relay on this checkout package LL-HLS (a `LowLatency` Stream directive)? */
export function hasLowLatencyHls(): boolean {
  return Object.hasOwn(DIRECTIVES.Stream, 'LowLatency');
}

function relayConfig(port: number, cameraUrl: string, lowLatency: boolean): string {
  const video = '  VideoFrameRate 25\n  VideoSize 640x480\n  VideoBitRate 1000\n';
  return `HTTPPort ${port}\nHTTPBindAddress 127.0.0.1\n<Camera clock>\n  Source ${cameraUrl}\n</Camera>\n`
    + `<Stream clock.flv>\n  Feed clock\n${video}</Stream>\n`
    + `<Stream clock.m3u8>\n  Feed clock\n${video}</Stream>\n`
    + (lowLatency ? `<Stream clock-ll.m3u8>\n  Feed clock\n${video}  LowLatency yes\n</Stream>\n` : '')
    + '<Stream clock.mjpg>\n  Feed clock\n</Stream>\n';
}

async function waitForLive(base: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const stat = (await (await fetch(`${base}/stat.json`)).json()) as { cameras: Array<{ state: string }> };
      if (stat.cameras.every((camera) => camera.state === 'live')) return;
    } catch {
      // not listening yet
    }
    await sleep(200);
  }
  throw new Error(`the relay's clock camera was not live within ${timeoutMs} ms`);
}

async function openPlayer(browser: Browser, base: string, player: Player, init: string): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 800, height: 700 } });
  await context.addInitScript({ content: `${player.init ?? ''}\n${init}` });
  const page = await context.newPage();
  await page.goto(`${base}${player.path}`);
  if (player.image) {
    await page.evaluate((src) => {
      document.body.innerHTML = `<img id="clock" src="${src}" width="640" height="480">`;
    }, player.image);
  }
  return page;
}

type Probe = { samples: number[]; bufferedAhead: number[]; stalls: number; firstFrameMs: number | null; unreadable: number; frames: number };
const readProbe = (page: Page): Promise<Probe> => page.evaluate(() => (window as unknown as { __latency: Probe }).__latency);

/** Watches one player for warm-up plus `seconds`, then times `opens` fresh page opens to their first decoded frame. */
async function measure(browser: Browser, base: string, player: Player, init: string, options: LatencyOptions): Promise<LatencyRow> {
  const page = await openPlayer(browser, base, player, init);
  try {
    await sleep(player.warmupSeconds * 1000);
    await page.evaluate(() => ((window as unknown as { __latency: { collect: boolean } }).__latency.collect = true));
    await sleep(options.seconds * 1000);
    const probe = await readProbe(page);
    const firstFrames: number[] = [];
    for (let i = 0; player.firstFrame && i < options.opens; i++) {
      const fresh = await openPlayer(browser, base, player, init);
      const deadline = Date.now() + 15_000;
      let first: number | null = null;
      while (first === null && Date.now() < deadline) {
        await sleep(50);
        first = (await readProbe(fresh)).firstFrameMs;
      }
      if (first !== null) firstFrames.push(first);
      await fresh.context().close();
    }
    return { label: player.label, samples: probe.samples, unreadable: probe.unreadable, firstFrames, bufferedAhead: probe.bufferedAhead, stalls: probe.stalls };
  } finally {
    await page.context().close();
  }
}

/** Runs the relay on the clock camera and measures every player in headless Chromium; returns the rows. */
export async function runLatency(options: LatencyOptions): Promise<LatencyRow[]> {
  const lowLatency = hasLowLatencyHls();
  const camera = new ClockCamera(25);
  await camera.start();
  const dir = await mkdtemp(join(tmpdir(), 'relay-bench-latency-'));
  const port = await freePort();
  await writeFile(join(dir, 'relay.conf'), relayConfig(port, camera.url, lowLatency));
  const relay = spawnTracked(process.execPath, [join(ROOT, 'relay/bin.mjs'), '-c', join(dir, 'relay.conf')], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  relay.stderr?.pipe(createWriteStream(join(options.logDir, 'latency-relay.log'), { flags: 'a' }));
  let browser: Browser | undefined;
  try {
    const base = `http://127.0.0.1:${port}`;
    await waitForLive(base, 20_000);
    browser = await chromium.launch({
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    const init = `window.__clockPattern = ${JSON.stringify({ ...PATTERN, base: camera.base })};\n${await readFile(PROBE, 'utf8')}`;
    const players: Player[] = [
      // The FLV page plays over WebRTC first: its own player is asked for by name to measure mpegts.js beside WebRTC.
      { label: 'FLV via mpegts.js (/player/clock.flv?engine=mpegts)', path: '/player/clock.flv?engine=mpegts', warmupSeconds: 4, firstFrame: true },
      { label: 'WebRTC (/player/clock.flv.webrtc)', path: '/player/clock.flv.webrtc', warmupSeconds: 4, firstFrame: true },
      { label: 'WebCodecs over WebSocket (/player/clock.flv.live)', path: '/player/clock.flv.live', warmupSeconds: 4, firstFrame: true },
      { label: 'MSE over WebSocket (/player/clock.flv.live, no WebCodecs)', path: '/player/clock.flv.live', warmupSeconds: 4, firstFrame: true, init: 'delete window.VideoDecoder;' },
      { label: 'MJPEG <img> (/clock.mjpg)', path: '/stat.json', image: '/clock.mjpg', warmupSeconds: 2, firstFrame: false },
      { label: 'HLS via hls.js (/player/clock.m3u8?engine=hlsjs)', path: '/player/clock.m3u8?engine=hlsjs', warmupSeconds: 10, firstFrame: false },
    ];
    if (lowLatency) players.push({ label: 'LL-HLS via hls.js (/player/clock-ll.m3u8)', path: '/player/clock-ll.m3u8', warmupSeconds: 6, firstFrame: true });
    const rows: LatencyRow[] = [];
    for (const player of players) {
      if (options.only && !options.only.some((prefix) => player.label.startsWith(prefix))) continue;
      process.stdout.write(`  latency: ${player.label} ... `);
      const row = await measure(browser, base, player, init, options);
      rows.push(row);
      process.stdout.write(`${row.samples.length} frames, p50 ${percentile(row.samples, 0.5).toFixed(0)} ms\n`);
    }
    if (!lowLatency && !options.only) rows.push({ label: 'LL-HLS via hls.js', samples: [], unreadable: 0, firstFrames: [], note: 'not measured: this relay has no LowLatency Stream directive (no LL-HLS packager)' });
    return rows;
  } finally {
    await browser?.close();
    await stopTracked(relay);
    await camera.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

const ms = (value: number): string => (Number.isFinite(value) ? `${Math.round(value)} ms` : '–');

/** The markdown table of the rows, with the targets of the FLV and MJPEG players. */
export function latencyTable(rows: LatencyRow[]): string {
  const lines = [
    '| player | frames | glass-to-glass p50 | p95 | max | buffered ahead p50 | stalls | first frame after opening (median, max) | target |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  for (const row of rows) {
    if (row.note) {
      lines.push(`| ${row.label} | – | – | – | – | – | – | – | ${row.note} |`);
      continue;
    }
    const p50 = percentile(row.samples, 0.5);
    const first = row.firstFrames.length ? `${ms(percentile(row.firstFrames, 0.5))}, ${ms(Math.max(...row.firstFrames))} (${row.firstFrames.length} opens)` : '–';
    const p95 = percentile(row.samples, 0.95);
    const target = /^WebRTC/.test(row.label) ? `p50 ≤ 150 ms, p95 ≤ 250 ms: ${p50 <= 150 && p95 <= 250 ? 'met' : '**not met**'}` : /^FLV|^MJPEG/.test(row.label) ? `p50 < 1000 ms: ${p50 < 1000 ? 'met' : '**not met**'}` : /^LL-HLS/.test(row.label) ? `p50 < 2500 ms: ${p50 < 2500 ? 'met' : '**not met**'}` : 'reported as it is';
    lines.push(`| ${row.label.replace(/</g, '&lt;')} | ${row.samples.length} | ${ms(p50)} | ${ms(percentile(row.samples, 0.95))} | ${ms(Math.max(...row.samples))} | ${row.bufferedAhead?.length ? ms(percentile(row.bufferedAhead, 0.5)) : '–'} | ${row.bufferedAhead?.length ? row.stalls ?? 0 : '–'} | ${first} | ${target} |`);
  }
  return lines.join('\n');
}

/** The `latency` group of `npm run bench`: runs it and returns its section for bench/RESULTS.md. */
export async function latencySection(argv: string[], logDir: string, only: string[] = []): Promise<string> {
  const startedAt = Date.now();
  const { loadavg } = await import('node:os');
  const loadAtStart = loadavg().map((load) => load.toFixed(2)).join(' ');
  const rows = await runLatency({ seconds: 12, opens: 5, logDir, ...(only.length > 0 ? { only } : {}) });
  const { cpus } = await import('node:os');
  return [
    `\n## Latency ${new Date().toISOString()}`,
    '',
    `Command: \`npm run bench${argv.length ? ` -- ${argv.join(' ')}` : ''}\` (latency group ${((Date.now() - startedAt) / 60_000).toFixed(1)} min)`,
    `Machine: ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), node ${process.version}, headless Chromium (software decoding), all over loopback; load average at the start ${loadAtStart}.`,
    'Camera: bench/latency/clock-camera.ts, 640x480 at 25 fps MJPEG over HTTP, each frame showing the wall clock as two rows of 24 blocks; '
      + 'the relay pulls it once and serves FLV (libx264 1000 kbit/s; the same encode over WebRTC), HLS (2 s segments) and MJPEG. Each player page is opened as linked; a probe '
      + 'draws every new frame it shows on a canvas, decodes the clock and records Date.now() minus it (12 s after a warm-up). '
      + 'First frame: from navigation start to the first decoded frame, fresh page each time.',
    '',
    latencyTable(rows),
    '',
  ].join('\n');
}
