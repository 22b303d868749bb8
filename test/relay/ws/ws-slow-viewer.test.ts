import { createServer, connect, type Socket } from 'node:net';
import t from 'tap';
import type { EncodedVideoFrame, H264Track } from '../../../media/types.ts';
import { EncodedHub } from '../../../relay/core/encoded-hub.ts';
import { Viewer } from '../../../relay/core/viewer.ts';
import { WsStream } from '../../../relay/outputs/ws/stream.ts';
import { waitFor } from '../../helpers/probe.ts';

const track: H264Track = {
  kind: 'video', codec: 'h264', clockRate: 90000, sps: Buffer.from([0x67, 0x64, 0, 0x1f]), pps: Buffer.from([0x68, 0xee]), width: 320, height: 240,
  codecString: 'avc1.64001f', avcC: Buffer.from([1, 0x64, 0, 0x1f, 0xff, 0xe1, 0, 4, 0x67, 0x64, 0, 0x1f, 1, 0, 2, 0x68, 0xee]),
};
const FRAME_BYTES = 20_000;
const LIMITS = { budgetBytes: 256 * 1024, hardLimitBytes: 1024 * 1024, writeTimeoutMs: 1000 };

/** A connected pair of real loopback sockets: the relay's end and the client's. */
async function socketPair(): Promise<{ relayEnd: Socket; clientEnd: Socket }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const accepted = new Promise<Socket>((resolve) => server.once('connection', resolve));
  const clientEnd = connect((server.address() as { port: number }).port, '127.0.0.1');
  const relayEnd = await accepted;
  server.close();
  return { relayEnd, clientEnd };
}

t.test('a WebSocket viewer that never reads drops to the next keyframe, then is cut off; one that reads gets every frame', async (t) => {
  const hub = new EncodedHub('test');
  const stream = new WsStream({ source: hub, live: () => true, frameRate: 100 }, LIMITS.writeTimeoutMs);
  t.teardown(() => stream.close());
  const reader = await socketPair();
  const stuck = await socketPair();
  let readBytes = 0;
  reader.clientEnd.on('data', (chunk: Buffer) => (readBytes += chunk.length));
  stuck.clientEnd.pause();
  t.teardown(() => {
    for (const socket of [reader.clientEnd, reader.relayEnd, stuck.clientEnd, stuck.relayEnd]) socket.destroy();
  });
  const readingViewer = new Viewer(reader.relayEnd, LIMITS, '127.0.0.1', 'ws');
  const stuckViewer = new Viewer(stuck.relayEnd, LIMITS, '127.0.0.1', 'ws');
  stream.join(readingViewer, 'raw');
  stream.join(stuckViewer, 'fmp4');
  t.equal(stream.fanouts.raw.waitingViewers.length, 1, 'no video yet: the viewer waits for a keyframe');

  let index = 0;
  let peakQueued = 0;
  const timer = setInterval(() => {
    peakQueued = Math.max(peakQueued, stuckViewer.queuedBytes);
    const frame: EncodedVideoFrame = { track, data: [Buffer.alloc(FRAME_BYTES, index % 10 === 0 ? 0x65 : 0x41)], pts: index * 10, dts: index * 10, keyframe: index % 10 === 0 };
    hub.publish(frame);
    index++;
  }, 10);
  t.teardown(() => clearInterval(timer));
  const sweeper = setInterval(() => stream.sweep(Date.now()), 200);
  t.teardown(() => clearInterval(sweeper));

  await waitFor(() => stuckViewer.closed, 20_000, 'the stuck viewer to be cut off');
  t.ok(stuckViewer.drops > 0, `the stuck viewer dropped ${stuckViewer.drops} frames before it was cut off`);
  t.ok(peakQueued > LIMITS.budgetBytes && peakQueued <= LIMITS.hardLimitBytes + 2 * FRAME_BYTES, `its queue peaked at ${peakQueued} bytes: past the budget, never past the hard limit by more than a frame or two`);
  const slow = stream.fanouts.fmp4.counters.slowDisconnects;
  t.ok(slow <= 1, `cut off by the hard limit or the write timeout (${slow} write-timeout disconnects)`);
  t.notOk(readingViewer.closed, 'the reading viewer plays on');
  t.equal(readingViewer.drops, 0, 'and dropped nothing');
  t.equal(stream.viewerCount, 1, 'the stuck viewer left the stream');
  await waitFor(() => readBytes >= readingViewer.bytesSent, 5000, 'the reader to read all it was sent');
  t.ok(readingViewer.framesSent >= index - 12, `the reader got ${readingViewer.framesSent} of the ${index} frames published (all from its first keyframe)`);
});
