import { spawn } from 'node:child_process';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createInterface } from 'node:readline';
import t from 'tap';
import { HlsOutput, MAX_HELD_REQUESTS } from '../../../relay/outputs/hls.ts';
import { ControllableCamera, makeJpegFrames, registryWith } from '../../helpers/controllable-camera.ts';
import { waitFor } from '../../helpers/probe.ts';
import { startTestRelay } from '../../helpers/relay.ts';

const REQUESTS = 10_000;

setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

/**
 * Memory the relay holds, after a full collection: the JS heap plus buffers outside it. RSS would also count pages
 * the allocator keeps after the 5,904 refused connections are gone, which says nothing about what is held.
 */
function liveBytes(): number {
  collectGarbage();
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.external;
}

/** A separate process (so that its sockets do not count against this one's descriptors) holding many requests open. */
const CLIENT = `
const net = require('node:net');
const [port, path, count] = [Number(process.argv[1]), process.argv[2], Number(process.argv[3])];
const state = { connected: 0, statuses: {}, closed: 0, errors: 0 };
let opened = 0;
function open() {
  if (opened >= count) return;
  opened++;
  // From 50 loopback addresses: one address may hold only a hundred requests.
  const socket = net.connect({ port, host: '127.0.0.1', localAddress: '127.0.0.' + (1 + (opened % 50)) }, () => {
    state.connected++;
    socket.write('GET ' + path + ' HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n');
    open();
  });
  let seen = false;
  socket.on('data', (chunk) => {
    if (seen) return;
    seen = true;
    const status = chunk.toString('latin1', 9, 12);
    state.statuses[status] = (state.statuses[status] || 0) + 1;
  });
  socket.on('error', () => { state.errors++; });
  socket.on('close', () => { state.closed++; });
}
for (let i = 0; i < 100; i++) open();
setInterval(() => process.stdout.write(JSON.stringify(state) + '\\n'), 250);
`;

interface ClientState {
  connected: number;
  statuses: Record<string, number>;
  closed: number;
  errors: number;
}

t.test('10,000 blocking reloads: a bounded number held, memory bounded, every one answered at shutdown', async (t) => {
  const camera = new ControllableCamera(makeJpegFrames(10, '160x120'), 10);
  const relay = await startTestRelay(`
<Camera cam>
  Source ctl://cam
  Timeout 600
</Camera>
<Stream ll.m3u8>
  Feed cam
  VideoFrameRate 10
  VideoBitRate 100
  HLSSegmentTime 15
  LowLatency yes
</Stream>
`, { adapters: registryWith({ cam: camera }) });
  let stopped = false;
  t.teardown(() => (stopped ? undefined : relay.stop()));
  const output = relay.relay.outputs.get('ll.m3u8') as HlsOutput;
  await waitFor(() => output.packager.segments.length > 0, 60_000, 'a first segment');
  // With the camera silent no part comes, so every request for the next part stays held (up to 45 s: three targets).
  camera.setMode('stall');
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const open = output.packager.open!;
  const path = `/ll.m3u8?_HLS_msn=${open.sequence}&_HLS_part=${open.parts.length}`;
  const liveBefore = liveBytes();
  const rssBefore = process.memoryUsage().rss;
  const startedAt = Date.now();
  const client = spawn(process.execPath, ['-e', CLIENT, String(relay.port), path, String(REQUESTS)], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.teardown(() => client.kill('SIGKILL'));
  let state: ClientState = { connected: 0, statuses: {}, closed: 0, errors: 0 };
  createInterface({ input: client.stdout! }).on('line', (line) => {
    state = JSON.parse(line) as ClientState;
  });
  await waitFor(() => state.connected === REQUESTS && (state.statuses['503'] ?? 0) >= REQUESTS - MAX_HELD_REQUESTS, 60_000,
    'every request sent and those past the bound refused');
  t.comment(`sent in ${Date.now() - startedAt} ms; held ${output.heldRequests}; ${JSON.stringify(state)}`);
  await waitFor(() => output.heldRequests === MAX_HELD_REQUESTS, 10_000, 'the held requests');
  t.equal(state.statuses['503'], REQUESTS - MAX_HELD_REQUESTS, 'requests past the bound are refused at once');
  t.equal(state.statuses['200'] ?? 0, 0, 'no playlist yet: the part does not exist');
  const grown = liveBytes() - liveBefore;
  t.comment(`RSS grew by ${((process.memoryUsage().rss - rssBefore) / 1e6).toFixed(0)} MB`);
  // Node's and Koa's objects for one open request come to about 21 KB; twice that would mean something else is kept.
  t.ok(grown / output.heldRequests < 40_000, `${(grown / 1e6).toFixed(0)} MB more live memory with ${output.heldRequests} requests held (${(grown / output.heldRequests / 1000).toFixed(1)} KB each)`);
  const stopping = Date.now();
  await relay.stop();
  stopped = true;
  await waitFor(() => state.closed === REQUESTS, 10_000, 'every connection answered and closed');
  t.ok(Date.now() - stopping < 10_000, `all released ${Date.now() - stopping} ms after shutdown began`);
  t.equal(state.statuses['503'], REQUESTS, 'the held ones were answered 503 at shutdown');
  t.equal(output.heldRequests, 0);
});
