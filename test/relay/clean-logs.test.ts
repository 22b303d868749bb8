import { connect, type Socket } from 'node:net';
import t from 'tap';
import { configFile, runRelay } from '../helpers/relay-process.ts';
import { waitFor } from '../helpers/probe.ts';

/** A viewer that reads for `ms` then leaves: politely (FIN, like curl -m 1) or abruptly (RST). */
function leavingViewer(port: number, path: string, ms: number, abrupt: boolean): Promise<number> {
  return new Promise((resolve) => {
    let bytes = 0;
    const socket: Socket = connect(port, '127.0.0.1', () => socket.write(`GET ${path} HTTP/1.1\r\nHost: relay\r\n\r\n`));
    socket.on('data', (chunk) => (bytes += chunk.length));
    socket.on('error', () => {});
    socket.on('close', () => resolve(bytes));
    setTimeout(() => (abrupt ? socket.resetAndDestroy() : socket.destroy()), ms);
  });
}

// Guards: 120 viewers cut off after 1 s printed raw "write after end" and "read ECONNRESET" stacks to the log.
t.test('viewers leaving mid-stream print nothing but log lines, and no errors', async (t) => {
  const file = await configFile(`<Camera test>\n  Source testsrc://?size=320x240&rate=25\n</Camera>
<Stream test.flv>\n  Feed test\n  VideoBitRate 300\n</Stream>\n<Stream test.mjpg>\n  Feed test\n</Stream>
<Stream test.m3u8>\n  Feed test\n  VideoBitRate 300\n</Stream>\n<Stream test.jpg>\n  Feed test\n</Stream>\n`);
  const relay = await runRelay(file);
  t.teardown(() => void relay.child.kill('SIGKILL'));
  const paths = ['/test.flv', '/test.mjpg', '/test.jpg', '/test.m3u8'];
  const base = `http://127.0.0.1:${relay.port()}`;
  await waitFor(async () => (await fetch(`${base}/test.jpg`)).status === 200, 15_000, 'the camera');
  await waitFor(async () => (await fetch(`${base}/test.m3u8`)).status === 200, 20_000, 'the HLS playlist');
  await waitFor(async () => (await leavingViewer(relay.port(), '/test.flv', 1000, false)) > 1000, 20_000, 'FLV');
  for (let round = 0; round < 3; round++) {
    const viewers = Array.from({ length: 40 }, (_, i) => leavingViewer(relay.port(), paths[i % paths.length]!, 300 + (i % 7) * 100, i % 2 === 0));
    const received = await Promise.all(viewers);
    t.ok(received.filter((bytes) => bytes > 0).length >= 20, `round ${round}: viewers got bytes before leaving`);
  }
  relay.child.kill('SIGTERM');
  t.equal(await relay.exited, 0, 'a clean exit');
  const lines = relay.output().split('\n').filter((line) => line.trim() !== '');
  const raw = lines.filter((line) => !/^\d{4}-\d{2}-\d{2}T\S+ (info |warn |error) [^:]+: /.test(line));
  t.same(raw, [], 'every line is a log line');
  t.same(lines.filter((line) => / error /.test(line)), [], 'a viewer leaving is not an error');
});
