import { execFileSync } from 'node:child_process';
import { createServer, connect, type Socket } from 'node:net';
import { PassThrough } from 'node:stream';
import t from 'tap';
import { adapterRegistrations } from '../../adapters/index.ts';
import { AdapterRegistry } from '../../adapters/registry.ts';
import type { AdapterSink, CameraAdapter } from '../../adapters/types.ts';
import { jpegUnit } from '../../media/types.ts';
import { FlvTagReader } from '../../media/flv/tags.ts';
import type { LiveOutput } from '../../relay/outputs/output.ts';
import { Viewer } from '../../relay/core/viewer.ts';
import { ffprobe, openViewer, waitFor } from '../helpers/probe.ts';
import { startTestRelay, syntheticConfig } from '../helpers/relay.ts';

const jpeg = execFileSync('ffmpeg', ['-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc=size=160x120:rate=1', '-frames:v', '1', '-f', 'mjpeg', 'pipe:1']);

/** A source the relay does not dial: it waits for a publisher, which the test lets in. */
class WaitingSource implements CameraAdapter {
  readonly kind = 'push-test';
  static publish: () => void = () => {};

  async run(sink: AdapterSink): Promise<void> {
    sink.onWaiting();
    await new Promise<void>((resolve) => {
      WaitingSource.publish = resolve;
      sink.signal.addEventListener('abort', () => resolve(), { once: true });
    });
    if (sink.signal.aborted) return;
    sink.onConnected();
    let time = 0;
    while (!sink.signal.aborted) {
      sink.onFrame(jpegUnit(jpeg, (time += 100)));
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

async function cameraState(baseUrl: string): Promise<{ state: string; stateText: string; lastError: unknown }> {
  const stat = (await (await fetch(`${baseUrl}/stat.json`)).json()) as { cameras: Array<{ state: string; stateText: string; lastError: unknown }> };
  return stat.cameras[0]!;
}

t.test('a source that waits for a publisher shows "waiting for publisher", not a failure, then goes live', async (t) => {
  const adapters = new AdapterRegistry([...adapterRegistrations, { schemes: ['pushtest'], create: () => new WaitingSource() }]);
  const relay = await startTestRelay(`<Camera pushed>\n  Source pushtest://\n  Timeout 1\n</Camera>
<Stream pushed.flv>\n  Feed pushed\n  VideoBitRate 100\n</Stream>\n<Stream stat.html>\n  Format status\n</Stream>\n`, { adapters });
  t.teardown(() => relay.stop());
  await waitFor(async () => (await cameraState(relay.baseUrl)).state === 'waiting', 5000, 'the waiting state');
  await new Promise((resolve) => setTimeout(resolve, 2500));
  const waiting = await cameraState(relay.baseUrl);
  t.same([waiting.state, waiting.stateText, waiting.lastError], ['waiting', 'waiting for publisher', null], 'past Timeout, still waiting and no error');
  t.match(await (await fetch(`${relay.baseUrl}/stat.html`)).text(), /waiting for publisher/, 'and so says /stat.html');
  WaitingSource.publish();
  await waitFor(async () => (await cameraState(relay.baseUrl)).state === 'live', 5000, 'live once frames arrive');
  const probed = await ffprobe(`${relay.baseUrl}/pushed.flv`, 2);
  t.equal(`${probed.codec_name} ${probed.width}x${probed.height}`, 'h264 160x120', 'its stream plays');
});

/** A socket pair on loopback: `server` is the relay's side, `client` the consumer's. */
async function socketPair(): Promise<{ server: Socket; client: Socket; close: () => void }> {
  const listener = createServer();
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  const accepted = new Promise<Socket>((resolve) => listener.once('connection', resolve));
  const client = connect((listener.address() as { port: number }).port, '127.0.0.1');
  const server = await accepted;
  return { server, client, close: () => { client.destroy(); server.destroy(); listener.close(); } };
}

t.test('a consumer that is not HTTP gets the same FLV and the same budget as an HTTP viewer', async (t) => {
  const relay = await startTestRelay(syntheticConfig({ rate: 25 }).replace('VideoBitRate 300', 'VideoBitRate 1500'));
  t.teardown(() => relay.stop());
  const output = relay.relay.outputs.get('test.flv') as LiveOutput;
  const reading = await socketPair();
  t.teardown(() => reading.close());
  // A pipe that nobody drains, like a file writer on a stalled disk: its queue grows with every write.
  const stuck = new PassThrough({ highWaterMark: 1024 });
  const limits = { budgetBytes: 16 * 1024, hardLimitBytes: 64 * 1024 * 1024, writeTimeoutMs: 60_000 };
  const consumer = new Viewer(reading.server, limits, '127.0.0.1', 'test');
  const slow = new Viewer(stuck, limits, 'pipe', 'file');
  output.attach(consumer);
  output.attach(slow);
  const http = await openViewer(`${relay.baseUrl}/test.flv`);
  t.teardown(() => http.close());
  const tags = new FlvTagReader();
  let videoTags = 0;
  let firstVideoIsConfig: boolean | undefined;
  reading.client.on('data', (chunk: Buffer) => {
    for (const tag of tags.push(chunk)) {
      if (tag.type !== 9) continue;
      firstVideoIsConfig ??= tag.sequenceHeader;
      videoTags++;
    }
  });
  await waitFor(() => videoTags > 50 && http.bytes > 50_000, 15_000, 'frames to both consumers');
  t.equal(tags.header?.toString('latin1', 0, 3), 'FLV', 'an FLV header first, as an HTTP viewer gets');
  t.equal(firstVideoIsConfig, true, 'then the codec configuration');
  t.same(http.head.subarray(0, 13), tags.header, 'the same header bytes as the HTTP viewer');
  await waitFor(() => slow.drops > 0, 15_000, 'the never-reading consumer to fall behind');
  t.ok(consumer.drops === 0, 'the reading consumer lost nothing');
  t.ok(slow.queuedBytes < limits.budgetBytes + 256 * 1024, `the stuck one queues its budget plus a frame at most (${slow.queuedBytes} bytes)`);
  const stat = (await (await fetch(`${relay.baseUrl}/stat.json`)).json()) as { streams: Array<{ name: string; viewers: number }> };
  t.equal(stat.streams.find((stream) => stream.name === 'test.flv')?.viewers, 3, 'all three consumers are counted');
});
