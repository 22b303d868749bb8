// Guards push ingest behind a proxy: the key throttle and the publisher's expected RTP address were the proxy's, so one client's bad keys slowed every publisher and RTP was taken only from the proxy.
import dgram from 'node:dgram';
import t from 'tap';
import { sourceApi } from '../../adapters/push/gst-publisher.ts';
import { waitFor } from '../../helpers/probe.ts';
import { startTestRelay } from '../../helpers/relay.ts';

const KEY = 'porch-publish-key-proxy1';
const relay = await startTestRelay(`TrustProxy 127.0.0.1\nRTPPortRange 36000-36009
<Camera porch>
  Source push://
  PublishKey ${KEY}
</Camera>
<Stream porch.flv>
  Feed porch
</Stream>
`);
t.teardown(() => relay.stop());
/** Datagrams the session took as its publisher's (whatever it then made of them). */
const taken = (data: Record<string, unknown>): number =>
  ['packets', 'malformed_packets', 'unsupported_packets', 'wrong_ssrc_packets'].reduce((sum, name) => sum + Number(data[name] ?? 0), 0);
/** A request the proxy at 127.0.0.1 forwards for `client`. */
const viaProxy = (body: unknown, client: string) => sourceApi(relay.baseUrl, body, { localAddress: '127.0.0.1', headers: { 'X-Forwarded-For': client } });

t.test('behind TrustProxy, keys are throttled and RTP expected per forwarded publisher, not per proxy', async (t) => {
  for (let i = 0; i < 5; i++) {
    const { json } = await viaProxy({ action: 'new_utilization_id', key: 'a-wrong-key-from-one-client' }, '127.0.0.8');
    t.equal(json.error_code, 4011, 'a bad key from one client');
  }
  const started = Date.now();
  const { status, json } = await viaProxy({ action: 'new_utilization_id', key: KEY }, '127.0.0.7');
  const waited = Date.now() - started;
  t.equal(status, 200);
  t.ok(waited < 500, `another client behind the same proxy is answered in ${waited} ms (the first one's bad keys slow only it)`);

  const id = json.utilization_id as string;
  const answer = await viaProxy({ action: 'start_stream', key: KEY, utilization_id: id, width: 320, height: 240 }, '127.0.0.7');
  t.equal(answer.status, 200, JSON.stringify(answer.json));
  const listed = await sourceApi(relay.baseUrl, { action: 'list_streams' });
  t.match(listed.json, { streams: [{ camera: 'porch', publisher: '127.0.0.7' }] }, 'the publisher is the forwarded client');

  // RTP comes straight from the publisher's own address, never through the HTTP proxy.
  const socket = dgram.createSocket('udp4');
  t.teardown(() => socket.close());
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.7', resolve));
  const rtp = Buffer.alloc(12 + 8);
  rtp[0] = 0x80;
  rtp[1] = 96; // an RTP header: what the session makes of the payload does not matter here
  for (let sequence = 0; sequence < 5; sequence++) {
    rtp.writeUInt16BE(sequence, 2);
    socket.send(rtp, answer.json.rtp_port as number, '127.0.0.1');
  }
  let data: Record<string, unknown> = {};
  await waitFor(async () => {
    data = (await viaProxy({ action: 'get_data', utilization_id: id, data: 'stream' }, '127.0.0.7')).json.data as Record<string, unknown>;
    return taken(data) + (data.foreign_packets as number) > 0;
  }, 5_000, 'the relay to count the datagrams');
  t.ok(taken(data) > 0, `datagrams from the publisher's own address are taken (${JSON.stringify(data)})`);
  t.equal(data.foreign_packets, 0, 'none counted as foreign');
});
