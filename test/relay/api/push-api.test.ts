import dgram from 'node:dgram';
import { writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { connect } from 'node:net';
import t, { type Test } from 'tap';
import { sourceApi } from '../../adapters/push/gst-publisher.ts';
import { hashPassword } from '../../../lib/password.ts';
import { startTestRelay, type TestRelay } from '../../helpers/relay.ts';

const PORCH_KEY = 'porch-publish-key-0001';
const PORCH_SPARE_KEY = 'porch-publish-key-0002';
const YARD_KEY = 'yard-publish-key-00001';
const BAD_KEY = 'not-a-configured-key-9';
/** The key of a camera that feeds no Stream and no recording. */
const SHED_KEY = 'shed-publish-key-000001';

function conf(porchKeys: string[], range = '32000-32003'): string {
  return `RTPPortRange ${range}
<Camera porch>
  Source push://
${porchKeys.map((key) => `  PublishKey ${key}\n`).join('')}  Timeout 1
</Camera>
<Camera yard>
  Source push://
  PublishKey ${YARD_KEY}
  Timeout 1
</Camera>
<Camera shed>
  Source push://
  PublishKey ${SHED_KEY}
</Camera>
<Stream porch.flv>
  Feed porch
</Stream>
<Stream yard.flv>
  Feed yard
</Stream>
<Stream stat.html>
  Format status
</Stream>
`;
}

async function expectError(t: Test, relay: TestRelay, body: unknown, code: number, raw?: string, authorization?: string): Promise<void> {
  const { status, json } = await sourceApi(relay.baseUrl, body, { raw, authorization });
  t.equal(json.error_code, code, `${JSON.stringify(body ?? raw).slice(0, 60)} -> ${code} (${String(json.error_txt)})`);
  t.equal(status, Math.floor(code / 10), 'the HTTP status is the code\'s first three digits');
  t.type(json.error_txt, 'string');
}

async function newId(relay: TestRelay, key: string): Promise<string> {
  const { status, json } = await sourceApi(relay.baseUrl, { action: 'new_utilization_id', key });
  if (status !== 200) throw new Error(`new_utilization_id: ${JSON.stringify(json)}`);
  return json.utilization_id as string;
}

const start = (key: string, id: string, extra: Record<string, unknown> = {}) => ({ action: 'start_stream', key, utilization_id: id, width: 320, height: 240, ...extra });

t.test('the gateway answers every refusal with its code, its status and a text', async (t) => {
  const relay = await startTestRelay(conf([PORCH_KEY, PORCH_SPARE_KEY]));
  t.teardown(() => relay.stop());
  const porch = await newId(relay, PORCH_KEY);
  t.match(porch, /^[0-9a-f]{32}$/);

  await expectError(t, relay, {}, 4001);
  await expectError(t, relay, { action: 42 }, 4001);
  await expectError(t, relay, { action: 'new_utilization_id' }, 4002);
  await expectError(t, relay, { action: 'new_utilization_id', key: 12345 }, 4002);
  await expectError(t, relay, { action: 'start_stream', key: PORCH_KEY, width: 320, height: 240 }, 4003);
  await expectError(t, relay, { action: 'validate_stream' }, 4003);
  await expectError(t, relay, { action: 'stop_stream', utilization_id: ['x'] }, 4003);
  await expectError(t, relay, start(PORCH_KEY, porch, { width: undefined }), 4004);
  await expectError(t, relay, start(PORCH_KEY, porch, { height: '240' }), 4004);
  await expectError(t, relay, start(PORCH_KEY, porch, { width: -2 }), 4004);
  await expectError(t, relay, start(PORCH_KEY, porch, { width: 1e12 }), 4004);
  await expectError(t, relay, start(PORCH_KEY, porch, { width: 320.5 }), 4004);
  await expectError(t, relay, undefined, 4006, '{"action": "new_utilization_id", "key": ');
  await expectError(t, relay, undefined, 4006, '');
  await expectError(t, relay, undefined, 4006, '["new_utilization_id"]');
  await expectError(t, relay, undefined, 4006, 'null');
  await expectError(t, relay, undefined, 4006, `{"action": "${'a'.repeat(5000)}"}`);
  await expectError(t, relay, undefined, 4006, `${'['.repeat(3000)}${']'.repeat(3000)}`);
  await expectError(t, relay, undefined, 4001, `{"action": ${'['.repeat(1500)}${']'.repeat(1500)}}`);
  await expectError(t, relay, { action: 'new_utilization_id', key: BAD_KEY }, 4011);
  await expectError(t, relay, { action: 'new_utilization_id', key: SHED_KEY }, 4051);
  await expectError(t, relay, start(BAD_KEY, porch), 4011);
  await expectError(t, relay, start(PORCH_KEY, 'f'.repeat(32)), 4012);
  await expectError(t, relay, { action: 'validate_stream', utilization_id: 'nope' }, 4012);
  await expectError(t, relay, start(YARD_KEY, porch), 4013);
  await expectError(t, relay, start(PORCH_KEY, porch, { codec: 'theora' }), 4151);
  await expectError(t, relay, start(PORCH_KEY, porch, { codec: 7 }), 4151);
  await expectError(t, relay, { action: 'validate_stream', utilization_id: porch }, 4092);
  await expectError(t, relay, { action: 'stop_stream', utilization_id: porch }, 4092);
  await expectError(t, relay, { action: 'get_data', utilization_id: porch }, 4005);
  await expectError(t, relay, { action: 'get_data', utilization_id: porch, data: 'keys' }, 5003);
  await expectError(t, relay, { action: 'get_data', utilization_id: porch, data: 'stream' }, 4092);
  await expectError(t, relay, { action: 'get_data', data: 'stream' }, 4003);
  await expectError(t, relay, { action: 'get_stream' }, 5011);
  await expectError(t, relay, { action: 'x'.repeat(500) }, 5011);

  const started = await sourceApi(relay.baseUrl, start(PORCH_KEY, porch));
  // The pair is picked at random among the range's two; the other one is what is left for yard.
  const porchPort = started.json.rtp_port as number;
  const otherPort = porchPort === 32000 ? 32002 : 32000;
  t.ok(porchPort === 32000 || porchPort === 32002, `a pair of RTPPortRange (${porchPort})`);
  const ssrc = started.json.ssrc as number;
  t.same(started, { status: 200, json: { url: `rtp://127.0.0.1:${porchPort}`, rtp_port: porchPort, rtcp_port: porchPort + 1, ssrc } });
  t.ok(Number.isInteger(ssrc) && ssrc > 0 && ssrc < 2 ** 31, `an SSRC every sender can be told to use (${ssrc})`);
  await expectError(t, relay, start(PORCH_KEY, porch), 4091);
  const second = await newId(relay, PORCH_SPARE_KEY);
  await expectError(t, relay, start(PORCH_SPARE_KEY, second), 4091);
  t.same((await sourceApi(relay.baseUrl, { action: 'validate_stream', utilization_id: porch })).json,
    { validation_code: 1, validation_txt: 'no RTP packets received yet', refused_packets: 0 });
  const data = (await sourceApi(relay.baseUrl, { action: 'get_data', utilization_id: porch, data: 'stream' })).json.data as Record<string, unknown>;
  t.match(data, { state: 'waiting', end_reason: null, codec: 'vp8', packets: 0, frames: 0, lost_packets: 0 });

  const yard = await newId(relay, YARD_KEY);
  const yardStarted = await sourceApi(relay.baseUrl, start(YARD_KEY, yard, { codec: 'jpeg' }));
  t.equal(yardStarted.json.rtp_port, otherPort);
  const third = await newId(relay, YARD_KEY);
  t.same((await sourceApi(relay.baseUrl, { action: 'stop_stream', utilization_id: yard })).json, { ok: 'stream stopped successfully' });
  await expectError(t, relay, { action: 'stop_stream', utilization_id: yard }, 4092);
  await expectError(t, relay, { action: 'validate_stream', utilization_id: yard }, 4092);
  // the porch stream holds its pair; yard's released pair is the only one left
  t.equal((await sourceApi(relay.baseUrl, start(YARD_KEY, third))).json.rtp_port, otherPort);
  await sourceApi(relay.baseUrl, { action: 'stop_stream', utilization_id: third });

  // Nothing arrived within Timeout (1 s): the ports go back and validate_stream says why.
  await new Promise((resolve) => setTimeout(resolve, 1800));
  await expectError(t, relay, { action: 'validate_stream', utilization_id: porch }, 4081);
  const probe = dgram.createSocket('udp4');
  await new Promise<void>((resolve, reject) => probe.once('error', reject).bind(porchPort, '127.0.0.1', () => resolve()));
  probe.close();
  t.pass('the timed-out stream\'s RTP port is free again');

  for (const page of ['/stat.json', '/metrics', '/', '/stat.html']) {
    const text = await (await fetch(`${relay.baseUrl}${page}`)).text();
    for (const key of [PORCH_KEY, PORCH_SPARE_KEY, YARD_KEY, SHED_KEY]) t.notOk(text.includes(key), `${page} does not show a publish key`);
  }
  for (const key of [PORCH_KEY, PORCH_SPARE_KEY, YARD_KEY, BAD_KEY, SHED_KEY]) t.notOk(relay.logs.join('\n').includes(key), 'no key in the log');
  t.notOk(relay.logs.some((line) => line.includes(porch)), 'no utilization id in the log');
});

t.test('port range exhausted (5031) and ports that cannot be bound (5001)', async (t) => {
  const relay = await startTestRelay(conf([PORCH_KEY], '32010-32011'));
  t.teardown(() => relay.stop());
  const porch = await newId(relay, PORCH_KEY);
  t.equal((await sourceApi(relay.baseUrl, start(PORCH_KEY, porch))).status, 200);
  await expectError(t, relay, start(YARD_KEY, await newId(relay, YARD_KEY)), 5031);
  await sourceApi(relay.baseUrl, { action: 'stop_stream', utilization_id: porch });

  const squatter = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => squatter.bind(32011, '127.0.0.1', () => resolve()));
  t.teardown(() => squatter.close());
  await expectError(t, relay, start(PORCH_KEY, porch), 5001);
});

t.test('a utilization whose key a reload removed is refused (4052)', async (t) => {
  const relay = await startTestRelay(conf([PORCH_KEY, PORCH_SPARE_KEY]));
  t.teardown(() => relay.stop());
  const porch = await newId(relay, PORCH_KEY);
  await writeFile(relay.configFile, `HTTPPort 0\n${conf([PORCH_SPARE_KEY])}`);
  await relay.reload();
  await expectError(t, relay, start(PORCH_SPARE_KEY, porch), 4052);
  await expectError(t, relay, { action: 'validate_stream', utilization_id: porch }, 4052);
  await expectError(t, relay, { action: 'new_utilization_id', key: PORCH_KEY }, 4011);
});

t.test('a key whose camera a reload leaves with no Stream and no recording opens nothing (4051)', async (t) => {
  const relay = await startTestRelay(conf([PORCH_KEY]));
  t.teardown(() => relay.stop());
  const porch = await newId(relay, PORCH_KEY);
  await writeFile(relay.configFile, `HTTPPort 0\n${conf([PORCH_KEY]).replace(/<Stream porch\.flv>[^]*?<\/Stream>\n/, '')}`);
  await relay.reload();
  await expectError(t, relay, start(PORCH_KEY, porch), 4051);
  await expectError(t, relay, { action: 'new_utilization_id', key: PORCH_KEY }, 4051);
  t.equal(relay.relay.push.allocatedPairs, 0, 'no port pair was taken');
});

t.test('operators list and stop push streams with the admin plane\'s credentials: missing 4006, wrong 4053', async (t) => {
  // A long Timeout: the stream must outlast the delays that failed logins earn.
  const relay = await startTestRelay(`AdminUser ops ${await hashPassword('operator-password', 1024)}\n${conf([PORCH_KEY], '32040-32041').replaceAll('Timeout 1', 'Timeout 60')}`);
  t.teardown(() => relay.stop());
  const basic = (password: string) => `Basic ${Buffer.from(`ops:${password}`).toString('base64')}`;
  const porch = await newId(relay, PORCH_KEY);
  t.equal((await sourceApi(relay.baseUrl, start(PORCH_KEY, porch))).status, 200);

  await expectError(t, relay, { action: 'list_streams' }, 4006);
  await expectError(t, relay, { action: 'list_streams' }, 4053, undefined, basic('guess'));
  await expectError(t, relay, { action: 'list_streams' }, 4053, undefined, 'Bearer not-a-token');
  await expectError(t, relay, { action: 'stop_stream', camera: 'porch' }, 4006);
  await expectError(t, relay, { action: 'stop_stream', camera: 'porch' }, 4053, undefined, basic('operator-passwore'));
  const listed = await sourceApi(relay.baseUrl, { action: 'list_streams' }, { authorization: basic('operator-password') });
  t.equal(listed.status, 200);
  t.match(listed.json, { streams: [{ camera: 'porch', publisher: '127.0.0.1', codec: 'vp8', rtp_port: 32040, state: 'waiting', packets: 0 }] });
  t.notOk(JSON.stringify(listed.json).includes(porch), 'the publisher\'s utilization id is not shown');
  const stat = (await (await fetch(`${relay.baseUrl}/stat.json`, { headers: { Authorization: basic('operator-password') } })).json()) as { cameras: Array<{ name: string; push: unknown }> };
  t.match(stat.cameras.find((camera) => camera.name === 'porch')?.push, { publisher: '127.0.0.1', codec: 'vp8', rtpPort: 32040, packets: 0, summary: /publisher 127\.0\.0\.1, vp8 on UDP 32040/ });
  t.equal(stat.cameras.find((camera) => camera.name === 'yard')?.push, null, 'a camera nobody publishes to shows no publisher');

  await expectError(t, relay, { action: 'stop_stream', camera: 'nowhere' }, 4012, undefined, basic('operator-password'));
  await expectError(t, relay, { action: 'stop_stream', camera: 'yard' }, 4092, undefined, basic('operator-password'));
  t.same((await sourceApi(relay.baseUrl, { action: 'stop_stream', camera: 'porch' }, { authorization: basic('operator-password') })).json, { ok: 'stream stopped successfully' });
  t.equal(relay.relay.push.allocatedPairs, 0, 'its ports are free');
  const answer = await sourceApi(relay.baseUrl, { action: 'validate_stream', utilization_id: porch });
  t.match(answer.json, { error_code: 4092, error_txt: /an operator stopped it/ }, 'the publisher learns who stopped it');
  t.same((await sourceApi(relay.baseUrl, { action: 'list_streams' }, { authorization: basic('operator-password') })).json, { streams: [] });
  t.ok(relay.logs.some((line) => /camera porch: push stream on UDP 32040 ended \(operator\)/.test(line)), 'the log says an operator ended it');
});

t.test('repeated bad keys from one address slow that address down, not others', async (t) => {
  const relay = await startTestRelay(conf([PORCH_KEY]));
  t.teardown(() => relay.stop());
  const bad = { action: 'new_utilization_id', key: BAD_KEY };
  for (let i = 0; i < 3; i++) await sourceApi(relay.baseUrl, bad);
  const timed = async (body: unknown, localAddress?: string): Promise<number> => {
    const began = performance.now();
    await sourceApi(relay.baseUrl, body, { localAddress });
    return performance.now() - began;
  };
  t.ok((await timed(bad)) >= 200, 'the fourth bad key waits');
  t.ok((await timed(bad)) >= 450, 'the fifth waits longer');
  t.ok((await timed({ action: 'new_utilization_id', key: PORCH_KEY }, '127.0.0.2')) < 200, 'another address is not slowed');
  t.ok(relay.logs.some((line) => /warn .*slowing down \/api\/source requests from 127\.0\.0\.1/.test(line)), 'logged once, as a warning');
});

t.test('only POST reaches the gateway; a body announced too big is refused before it is read', async (t) => {
  const relay = await startTestRelay(conf([PORCH_KEY]));
  t.teardown(() => relay.stop());
  t.equal((await fetch(`${relay.baseUrl}/api/source`, { method: 'PUT', body: '{}' })).status, 405);
  t.equal((await fetch(`${relay.baseUrl}/api/source`)).status, 404);
  const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request(`${relay.baseUrl}/api/source`, { method: 'POST', headers: { 'Content-Length': String(50 * 1024 * 1024) } }, (response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.write('{"action":');
  });
  t.equal(answer.status, 400);
  t.equal(JSON.parse(answer.body).error_code, 4006);
});

t.test('PublishAddress is the host publishers are told to send to', async (t) => {
  const relay = await startTestRelay(`PublishAddress relay.example.net\n${conf([PORCH_KEY], '32020-32021')}`);
  t.teardown(() => relay.stop());
  const started = await sourceApi(relay.baseUrl, start(PORCH_KEY, await newId(relay, PORCH_KEY)));
  t.equal(started.json.url, 'rtp://relay.example.net:32020');
});

t.test('bound to every address, the relay tells publishers the address their request came in on', async (t) => {
  const relay = await startTestRelay(`HTTPBindAddress 0.0.0.0\n${conf([PORCH_KEY], '32030-32031')}`);
  t.teardown(() => relay.stop());
  const started = await sourceApi(relay.baseUrl.replace('127.0.0.1', '127.0.0.3'), start(PORCH_KEY, await newId(relay, PORCH_KEY)));
  t.equal(started.json.url, 'rtp://127.0.0.3:32030');
});

t.test('a publisher that hangs up in the middle of its request body leaves the relay as it was, with no error logged', async (t) => {
  const relay = await startTestRelay(conf([PORCH_KEY]));
  t.teardown(() => relay.stop());
  const socket = connect(Number(new URL(relay.baseUrl).port), '127.0.0.1');
  await new Promise((resolve) => socket.once('connect', resolve));
  socket.write('POST /api/source HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n{"action": "new_util');
  await new Promise((resolve) => setTimeout(resolve, 100));
  socket.destroy();
  await new Promise((resolve) => setTimeout(resolve, 100));
  t.equal((await sourceApi(relay.baseUrl, { action: 'new_utilization_id', key: PORCH_KEY })).status, 200, 'the next publisher is served');
  t.same(relay.logs.filter((line) => / (error|warn) /.test(line)), [], 'nothing logged as an error');
});

t.test('start_stream with sound: a second port pair and SSRC; a codec it cannot take is refused (4151) and frees the picture\'s pair', async (t) => {
  const relay = await startTestRelay(conf([PORCH_KEY]));
  t.teardown(() => relay.stop());
  const porch = await newId(relay, PORCH_KEY);
  await expectError(t, relay, start(PORCH_KEY, porch, { audio: 'g729' }), 4151);
  await expectError(t, relay, start(PORCH_KEY, porch, { audio: 'aac' }), 4151);
  await expectError(t, relay, start(PORCH_KEY, porch, { audio: 'aac', audio_config: 'zz' }), 4151);
  await expectError(t, relay, start(PORCH_KEY, porch, { audio: 'aac', audio_config: 'ff' }), 4151);
  t.equal(relay.relay.push.allocatedPairs, 0, 'no pair held after the refusals');
  const started = await sourceApi(relay.baseUrl, start(PORCH_KEY, porch, { audio: 'aac', audio_config: '1190' }));
  const { rtp_port: rtpPort, audio_rtp_port: audioPort, ssrc, audio_ssrc: audioSsrc } = started.json as { rtp_port: number; audio_rtp_port: number; ssrc: number; audio_ssrc: number };
  t.same(started.json, { url: `rtp://127.0.0.1:${rtpPort}`, rtp_port: rtpPort, rtcp_port: rtpPort + 1, ssrc, audio_url: `rtp://127.0.0.1:${audioPort}`,
    audio_rtp_port: audioPort, audio_rtcp_port: audioPort + 1, audio_ssrc: audioSsrc });
  t.same([rtpPort, audioPort].sort(), [32000, 32002], 'both pairs of the range');
  // The range is full: the next stream with sound gets no pair, and its picture's pair goes back.
  const yard = await newId(relay, YARD_KEY);
  await expectError(t, relay, start(YARD_KEY, yard, { audio: 'opus' }), 5031);
  t.equal(relay.relay.push.allocatedPairs, 2, 'only the porch stream\'s two pairs are held');
  // Sound from another SSRC, and a datagram that is not RTP, are refused and counted.
  const sender = dgram.createSocket('udp4');
  const packet = Buffer.alloc(16);
  packet.set([0x80, 97]);
  packet.writeUInt32BE((audioSsrc + 1) % 2 ** 31, 8);
  for (const datagram of [packet, Buffer.from('not rtp')]) await new Promise((resolve) => sender.send(datagram, audioPort, '127.0.0.1', resolve));
  sender.close();
  const audioData = async () => ((await sourceApi(relay.baseUrl, { action: 'get_data', utilization_id: porch, data: 'stream' })).json.data as { audio: Record<string, unknown> }).audio;
  await waitUntil(async () => (await audioData()).refused === 2);
  t.match(await audioData(), { codec: 'aac', packets: 0, frames: 0, refused: 2 });
  t.same((await sourceApi(relay.baseUrl, { action: 'stop_stream', utilization_id: porch })).json, { ok: 'stream stopped successfully' });
  t.equal(relay.relay.push.allocatedPairs, 0, 'stop_stream frees both pairs');
});

async function waitUntil(check: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
