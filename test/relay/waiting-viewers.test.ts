import { writeFile } from 'node:fs/promises';
import t from 'tap';
import { fetchBytes, openViewer, waitFor } from '../helpers/probe.ts';
import { unusedPort } from '../helpers/ports.ts';
import { startTestRelay } from '../helpers/relay.ts';

interface StreamStat {
  name: string;
  viewers: number;
  waiting: number;
  viewerList: unknown[];
}

async function streamStat(baseUrl: string, name: string): Promise<StreamStat | undefined> {
  const stat = (await (await fetch(`${baseUrl}/stat.json`)).json()) as { streams: StreamStat[] };
  return stat.streams.find((stream) => stream.name === name);
}

/** A camera nobody answers for: its FLV stream can never start. */
async function downCameraConfig(extra = ''): Promise<string> {
  return `MaxClients 20
<Camera down>\n  Source http://127.0.0.1:${await unusedPort()}/video.mjpg\n</Camera>
<Stream down.flv>\n  Feed down\n  VideoBitRate 100\n  ViewerWriteTimeout 2\n</Stream>\n${extra}`;
}

// Guards: removing an FLV stream on reload left its not-yet-started viewers hanging on a 200 with no bytes.
t.test('a stream that closes ends its waiting viewers too', async (t) => {
  const relay = await startTestRelay(await downCameraConfig());
  t.teardown(() => relay.stop());
  const viewers = await Promise.all([1, 2, 3].map(() => openViewer(`${relay.baseUrl}/down.flv`)));
  t.ok(viewers.every((viewer) => viewer.response.statusCode === 200));
  const stat = await streamStat(relay.baseUrl, 'down.flv');
  t.same([stat?.viewers, stat?.waiting, stat?.viewerList.length], [3, 3, 3], 'waiting viewers are counted and listed');
  const ended = viewers.map((viewer) => new Promise<void>((resolve) => viewer.response.once('close', () => resolve())));
  await writeFile(relay.configFile, `HTTPPort 0\n<Camera other>\n  Source testsrc://?size=160x120&rate=5\n</Camera>\n`);
  await relay.reload();
  await Promise.race([Promise.all(ended), new Promise((_, reject) => setTimeout(() => reject(new Error('viewers still hanging')), 5000))]);
  t.equal(viewers.reduce((sum, viewer) => sum + viewer.bytes, 0), 0, 'they never got a byte, and were ended');
});

// Guards: 1,000 viewers of a stream whose camera was down got 200 uncounted, so MaxClients let everyone in.
t.test('waiting viewers count against MaxClients, and time out after ViewerWriteTimeout', async (t) => {
  const relay = await startTestRelay(await downCameraConfig());
  t.teardown(() => relay.stop());
  const viewers = await Promise.all(Array.from({ length: 20 }, () => openViewer(`${relay.baseUrl}/down.flv`)));
  t.ok(viewers.every((viewer) => viewer.response.statusCode === 200), '20 admitted');
  const refused = await fetchBytes(`${relay.baseUrl}/down.flv`);
  t.equal(refused.status, 503, 'the 21st is refused: waiting viewers are viewers');
  const started = Date.now();
  await Promise.all(viewers.map((viewer) => new Promise<void>((resolve) => viewer.response.once('close', () => resolve()))));
  const waited = Date.now() - started;
  t.ok(waited < 6000, `ended ${waited} ms later (ViewerWriteTimeout 2 s, swept every second)`);
  await waitFor(async () => (await streamStat(relay.baseUrl, 'down.flv'))?.viewers === 0, 3000, 'the count to drop');
});
