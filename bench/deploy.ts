// `node --import tsx bench/deploy.ts`: the relay behind nginx and as origin of an edge relay, on one machine.
// Options: --hls-clients 1000  --flv-viewers 1000  --seconds 60  --parts hls,edge  --out bench/RESULTS.md
// hls: N simulated HLS clients (a Node loop, each polling the playlist every second with its own token and fetching
// every new segment) through nginx running deploy/nginx/relay.conf; counts what reaches the relay and nginx's hits.
// edge: an origin relay and an edge relay pulling its FLV (VideoCodec copy); N FLV viewers on the edge.
import { appendFile } from 'node:fs/promises';
import http, { type IncomingMessage } from 'node:http';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { Logger } from '../lib/log.ts';
import { startNginx } from '../test/deploy/nginx-peer.ts';
import { startTestRelay, type TestRelay } from '../test/helpers/relay.ts';

const { values } = parseArgs({
  options: {
    'hls-clients': { type: 'string', default: '1000' },
    'flv-viewers': { type: 'string', default: '1000' },
    seconds: { type: 'string', default: '60' },
    parts: { type: 'string', default: 'hls,edge' },
    out: { type: 'string', default: fileURLToPath(new URL('./RESULTS.md', import.meta.url)) },
  },
});
const seconds = Math.min(90, Math.max(5, Number(values.seconds)));
const parts = values.parts.split(',');
const SOURCE = `<Camera cam>\n  Source testsrc://?size=320x240&rate=10\n</Camera>\n`;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** GETs a URL over `agent`, resolving with status and body (or status 0 on a network error). */
function get(url: string, agent: http.Agent): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const request = http.get(url, { agent }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('latin1') }));
      response.on('error', () => resolve({ status: 0, body: '' }));
    });
    request.on('error', () => resolve({ status: 0, body: '' }));
    request.setTimeout(10_000, () => request.destroy());
  });
}

/** Counts the requests that reach a relay, by kind. */
function countRequests(relay: TestRelay): { playlists: number; segments: Map<string, number> } {
  const seen = { playlists: 0, segments: new Map<string, number>() };
  relay.server.prependListener('request', (request: IncomingMessage) => {
    const path = (request.url ?? '').split('?')[0]!;
    if (path.endsWith('.m3u8')) seen.playlists++;
    else if (path.endsWith('.ts')) seen.segments.set(path, (seen.segments.get(path) ?? 0) + 1);
  });
  return seen;
}

async function hlsPart(clients: number): Promise<string[]> {
  const relay = await startTestRelay(`${SOURCE}<Stream cam.m3u8>\n  Feed cam\n  VideoSize 320x240\n  VideoBitRate 300\n  HLSSegmentTime 2\n</Stream>\n`, { log: quietLog() });
  const nginx = await startNginx(relay.port);
  try {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
    const base = nginx.baseUrl;
    while ((await get(`${base}/cam.m3u8`, agent)).status !== 200) await sleep(500);
    await sleep(4000);
    const seen = countRequests(relay);
    const logBefore = (await nginx.accessLog()).length;
    const totals = { playlists: 0, segments: 0, failed: 0 };
    const deadline = Date.now() + seconds * 1000;
    const client = async (id: number): Promise<void> => {
      const fetched = new Set<string>();
      await sleep(Math.random() * 1000);
      while (Date.now() < deadline) {
        const started = Date.now();
        const playlist = await get(`${base}/cam.m3u8?token=client${id}`, agent);
        totals.playlists++;
        if (playlist.status !== 200) totals.failed++;
        const uris = playlist.body.split('\n').filter((line) => line && !line.startsWith('#'));
        // Like a player joining near the live edge: the last three segments, then each new one.
        for (const uri of fetched.size === 0 ? uris.slice(-3) : uris.filter((candidate) => !fetched.has(candidate))) {
          fetched.add(uri);
          const segment = await get(new URL(uri, `${base}/cam.m3u8`).href + `?token=client${id}`, agent);
          totals.segments++;
          if (segment.status !== 200) totals.failed++;
        }
        await sleep(Math.max(0, 1000 - (Date.now() - started)));
      }
    };
    const started = Date.now();
    await Promise.all(Array.from({ length: clients }, (_, id) => client(id)));
    const elapsed = (Date.now() - started) / 1000;
    agent.destroy();
    const log = (await nginx.accessLog()).slice(logBefore);
    const verdicts = new Map<string, number>();
    for (const line of log) {
      const verdict = / cache=(\S+)/.exec(line)?.[1] ?? '?';
      verdicts.set(verdict, (verdicts.get(verdict) ?? 0) + 1);
    }
    const served = ['HIT', 'STALE', 'UPDATING', 'REVALIDATED'].reduce((sum, key) => sum + (verdicts.get(key) ?? 0), 0);
    const cacheable = [...verdicts].filter(([key]) => key !== '-').reduce((sum, [, count]) => sum + count, 0);
    const segmentRequests = [...seen.segments.values()];
    const perSegmentMax = Math.max(0, ...segmentRequests);
    return [
      `| HLS clients through nginx | ${clients} for ${elapsed.toFixed(0)} s |`,
      `| client requests (playlists + segments) | ${totals.playlists} + ${totals.segments} (${((totals.playlists + totals.segments) / elapsed).toFixed(0)}/s), ${totals.failed} failed |`,
      `| playlist requests reaching the relay | ${seen.playlists} (${(seen.playlists / elapsed).toFixed(2)}/s; target at most 2/s) |`,
      `| segment requests reaching the relay | ${segmentRequests.reduce((a, b) => a + b, 0)} for ${seen.segments.size} segments (at most ${perSegmentMax} per segment; target 1) |`,
      `| nginx cache hit ratio | ${cacheable > 0 ? ((served / cacheable) * 100).toFixed(2) : '–'}% (${[...verdicts].map(([key, count]) => `${key} ${count}`).join(', ')}) |`,
    ];
  } finally {
    await nginx.stop();
    await relay.stop();
  }
}

async function edgePart(viewers: number): Promise<string[]> {
  const origin = await startTestRelay(`${SOURCE}<Stream cam.flv>\n  Feed cam\n  VideoSize 320x240\n  VideoBitRate 300\n</Stream>\n`, { log: quietLog() });
  const edge = await startTestRelay(`<Camera cam>\n  Source http://127.0.0.1:${origin.port}/cam.flv\n  OnDemand yes\n</Camera>\n<Stream cam.flv>\n  Feed cam\n  VideoCodec copy\n</Stream>\n`, { log: quietLog() });
  const sockets: http.ClientRequest[] = [];
  try {
    let bytes = 0;
    let open = 0;
    for (let i = 0; i < viewers; i++) {
      const request = http.get(`${edge.baseUrl}/cam.flv`, { agent: false }, (response) => {
        open++;
        response.on('data', (chunk: Buffer) => (bytes += chunk.length));
        response.on('error', () => {});
      });
      request.on('error', () => {});
      sockets.push(request);
      if (i % 100 === 99) await sleep(50);
    }
    await sleep(5000);
    const before = bytes;
    let originViewersMax = 0;
    const deadline = Date.now() + Math.min(seconds, 30) * 1000;
    while (Date.now() < deadline) {
      originViewersMax = Math.max(originViewersMax, origin.relay.outputs.get('cam.flv')!.viewerCount);
      await sleep(500);
    }
    const window = Math.min(seconds, 30);
    return [
      `| FLV viewers on the edge | ${open} of ${viewers} open, ${((bytes - before) / window / 1e6).toFixed(2)} MB/s delivered over ${window} s |`,
      `| viewers on the origin meanwhile | at most ${originViewersMax} (target 1) |`,
      `| edge upstream reconnects | ${edge.relay.feeds.get('cam')!.status.restarts} |`,
    ];
  } finally {
    for (const socket of sockets) socket.destroy();
    await edge.stop();
    await origin.stop();
  }
}

/** The relays' logs are not part of the figures; errors still reach stderr. */
function quietLog(): Logger {
  const log: Logger = { info() {}, warn() {}, error: (message) => void process.stderr.write(`relay error: ${message}\n`), child: () => log };
  return log;
}

const rows: string[] = [];
const startedAt = Date.now();
if (parts.includes('hls')) rows.push(...(await hlsPart(Number(values['hls-clients']))));
if (parts.includes('edge')) rows.push(...(await edgePart(Number(values['flv-viewers']))));
const argv = process.argv.slice(2);
const text = [
  `\n## ${new Date().toISOString()}: behind nginx and as an origin`,
  '',
  `Command: \`node --import tsx bench/deploy.ts${argv.length ? ` ${argv.join(' ')}` : ''}\` (${((Date.now() - startedAt) / 60_000).toFixed(1)} min)`,
  `Machine: ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), node ${process.version}, shared with other work; relays in the bench process, nginx with 1 worker.`,
  '',
  '| measure | result |',
  '|---|---|',
  ...rows,
  '',
].join('\n');
await appendFile(values.out, text);
process.stdout.write(`${text}\nappended to ${values.out}\n`);
process.exit(0);
