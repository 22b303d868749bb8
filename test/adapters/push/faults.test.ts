import dgram from 'node:dgram';
import t from 'tap';
import type { VideoUnit } from '../../../media/types.ts';
import { startTestRelay, type TestRelay } from '../../helpers/relay.ts';
import { rtpBytes } from '../rtsp/rtp-builder.ts';
import { rtcpPeer, sourceApi } from './gst-publisher.ts';
import { vp8InterFrame, vp8Keyframe, vp8Payloads } from './vp8-builder.ts';

const KEY = 'fault-test-publish-key';
const FOLLOW_KEY = 'follow-ssrc-publish-key';

const conf = `RTPPortRange 34000-34009
<Camera cam>
  Source push://
  PublishKey ${KEY}
  Timeout 1
  MaxFrameSize 64k
</Camera>
<Camera follow>
  Source push://
  PublishKey ${FOLLOW_KEY}
  FollowSSRC yes
  Timeout 3
</Camera>
<Stream cam.flv>
  Feed cam
</Stream>
<Stream follow.flv>
  Feed follow
</Stream>
`;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A publisher made of one UDP socket: it sends whole VP8 frames as RTP, or any bytes it is told to. */
class FakePublisher {
  sequence = 1;
  timestamp = 9000;
  private constructor(
    private readonly socket: dgram.Socket,
    private readonly port: number,
    private readonly ssrc: number,
  ) {}

  /** A publisher sending to `port` from `address`, with the SSRC start_stream assigned unless told another. */
  static async open(stream: { port: number; ssrc: number }, address = '127.0.0.1'): Promise<FakePublisher> {
    const socket = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, address, () => resolve()));
    const publisher = new FakePublisher(socket, stream.port, stream.ssrc);
    opened.push(publisher);
    return publisher;
  }

  raw(bytes: Buffer, port = this.port): Promise<void> {
    return new Promise((resolve) => this.socket.send(bytes, port, '127.0.0.1', () => resolve()));
  }

  /** Sends one frame; `skip` leaves out the packets at those indexes (a partition lost on the way). */
  async frame(frame: Buffer, options: { ssrc?: number; skip?: number[]; payloadType?: number; chunk?: number } = {}): Promise<void> {
    this.timestamp += 3600;
    const payloads = vp8Payloads(frame, options.chunk ?? 100);
    for (const [index, payload] of payloads.entries()) {
      const packet = rtpBytes({ payloadType: options.payloadType ?? 96, sequence: this.sequence++, timestamp: this.timestamp, marker: index === payloads.length - 1, ssrc: options.ssrc ?? this.ssrc }, payload);
      if (!options.skip?.includes(index)) await this.raw(packet);
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.close();
  }

  private closed = false;
}

/** Every fake publisher, closed at the end whatever happened. */
const opened: FakePublisher[] = [];
t.teardown(() => {
  for (const publisher of opened) publisher.close();
});

async function startStream(relay: TestRelay, key = KEY, localAddress?: string): Promise<{ id: string; port: number; ssrc: number }> {
  const id = (await sourceApi(relay.baseUrl, { action: 'new_utilization_id', key }, { localAddress })).json.utilization_id as string;
  const started = await sourceApi(relay.baseUrl, { action: 'start_stream', key, utilization_id: id, width: 320, height: 240 }, { localAddress });
  if (started.status !== 200) throw new Error(JSON.stringify(started.json));
  return { id, port: started.json.rtp_port as number, ssrc: started.json.ssrc as number };
}

const validate = async (relay: TestRelay, id: string) => (await sourceApi(relay.baseUrl, { action: 'validate_stream', utilization_id: id })).json;

async function until(what: string, check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

t.test('push faults', async (t) => {
  const relay = await startTestRelay(conf);
  t.teardown(() => relay.stop());
  const feed = relay.relay.feeds.get('cam')!;
  const frames: VideoUnit[] = [];
  feed.subscribe((frame) => frames.push(frame));
  await until('waiting', () => feed.state === 'waiting');

  t.test('packets from an address other than the handshake\'s are dropped and counted', async (t) => {
    const stream = await startStream(relay);
    const { id, port } = stream;
    const spoofer = await FakePublisher.open(stream, '127.0.0.2');
    for (let i = 0; i < 5; i++) await spoofer.frame(vp8Keyframe());
    await sleep(100);
    t.equal(relay.relay.push.sessionOf(id)!.counters.foreign, 15, 'five frames of three packets');
    t.match(await validate(relay, id), { validation_code: 4, validation_txt: /^no RTP packet taken: 15 refused \(15 from another address than the handshake's\)/, refused_packets: 15 },
      'nothing taken from the spoofer, and the publisher is told what was refused');
    t.equal(frames.length, 0);
    spoofer.close();
    const publisher = await FakePublisher.open(stream);
    await publisher.frame(vp8Keyframe());
    await until('a frame', () => frames.length === 1);
    t.equal((await validate(relay, id)).validation_code, 0, 'the real publisher is taken');
    const data = (await sourceApi(relay.baseUrl, { action: 'get_data', utilization_id: id, data: 'stream' })).json.data;
    t.match(data, { state: 'streaming', packets: 3, frames: 1, foreign_packets: 15 }, 'get_data shows what the publisher can check');
    publisher.close();
    await sourceApi(relay.baseUrl, { action: 'stop_stream', utilization_id: id });
  });

  t.test('a handshake from 127.0.0.2 locks the stream to 127.0.0.2', async (t) => {
    const stream = await startStream(relay, KEY, '127.0.0.2');
    const { id, port } = stream;
    const other = await FakePublisher.open(stream, '127.0.0.1');
    await other.frame(vp8Keyframe());
    const publisher = await FakePublisher.open(stream, '127.0.0.2');
    await publisher.frame(vp8Keyframe());
    await until('validated', () => relay.relay.push.sessionOf(id)!.state === 'streaming');
    t.equal(relay.relay.push.sessionOf(id)!.counters.foreign, 3);
    other.close();
    publisher.close();
    await sourceApi(relay.baseUrl, { action: 'stop_stream', utilization_id: id });
  });

  t.test('a second SSRC is dropped; truncated, oversized and garbage packets are counted; the stream goes on', async (t) => {
    frames.length = 0;
    const stream = await startStream(relay);
    const { id, port } = stream;
    const publisher = await FakePublisher.open(stream);
    await publisher.frame(vp8Keyframe());
    const sequence = publisher.sequence;
    await publisher.frame(vp8Keyframe(320, 240, 200, 0x11), { ssrc: 0xbbbb });
    publisher.sequence = sequence; // another sender, with its own sequence numbers
    await publisher.raw(Buffer.from([0x80, 0x60, 0x00]));
    await publisher.raw(Buffer.from([0x40, 0x60, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0x10]));
    await publisher.raw(Buffer.from([0x90, 0x60, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0xff, 0xff]));
    await publisher.raw(rtpBytes({ payloadType: 96, sequence: 500, timestamp: 1 }, Buffer.alloc(9100, 0x10)));
    await publisher.raw(Buffer.alloc(60_000, 0xff));
    for (let i = 0; i < 3; i++) await publisher.frame(vp8InterFrame());
    await until('4 frames', () => frames.length === 4);
    const { counters } = relay.relay.push.sessionOf(id)!;
    t.equal(counters.wrongSsrc, 3, 'the other SSRC\'s packets');
    t.equal(counters.malformed, 5, 'truncated, version 1, extension overrun, oversized, noise');
    t.ok(frames.every((frame) => frame.data[6] !== 0x11 && frame.data.at(-1) !== 0x11), 'nothing of the other SSRC reached the Feed');

    // RTCP garbage: noise, a truncated header, a length past the end, a sender report cut short.
    for (const bytes of [Buffer.alloc(500, 0xaa), Buffer.from([0x80]), Buffer.from([0x80, 200, 0xff, 0xff, 1, 2]), Buffer.from([0x80, 200, 0, 6, 0, 0, 0, 1])]) {
      await publisher.raw(bytes, port + 1);
    }
    await publisher.frame(vp8InterFrame());
    await until('5 frames', () => frames.length === 5);
    t.equal(counters.rtcpIn, 4, 'RTCP garbage is read and ignored');
    publisher.close();
    await sourceApi(relay.baseUrl, { action: 'stop_stream', utilization_id: id });
  });

  t.test('a VP8 partition lost mid-frame: that frame and the inter frames after it are dropped until a keyframe', async (t) => {
    frames.length = 0;
    const stream = await startStream(relay);
    const { id, port } = stream;
    const publisher = await FakePublisher.open(stream);
    await publisher.frame(vp8Keyframe());
    await publisher.frame(vp8InterFrame(400), { skip: [2] });
    await publisher.frame(vp8InterFrame());
    await publisher.frame(vp8InterFrame());
    const key = vp8Keyframe(320, 240, 300, 0x66);
    await publisher.frame(key);
    await publisher.frame(vp8InterFrame());
    // The reorderer holds packets after a gap until 200 ms have passed; a live publisher's next packet moves it on.
    await sleep(300);
    await publisher.frame(vp8InterFrame());
    await until('4 frames', () => frames.length === 4);
    await sleep(100);
    t.same(frames.map((frame) => frame.keyframe), [true, true, false, false], 'keyframe, then the next keyframe and what follows it');
    t.same(frames[1]!.data, key);
    const { counters } = relay.relay.push.sessionOf(id)!;
    t.equal(counters.lost, 1);
    t.equal(counters.droppedFrames, 3, 'the damaged frame and two inter frames');
    publisher.close();
    await sourceApi(relay.baseUrl, { action: 'stop_stream', utilization_id: id });
  });

  t.test('RTCP goes back to where the publisher\'s RTCP comes from: receiver reports, and a PLI after a loss', async (t) => {
    frames.length = 0;
    const stream = await startStream(relay);
    const { id, port } = stream;
    const publisher = await FakePublisher.open(stream);
    const received = await rtcpPeer(t, port, stream.ssrc);
    await publisher.frame(vp8Keyframe());
    await publisher.frame(vp8InterFrame(400), { skip: [1] });
    await sleep(300); // the reorderer gives up on the missing packet when the next one is 200 ms late
    await publisher.frame(vp8InterFrame());
    await until('a keyframe request', () => received.some((packet) => packet[1] === 206));
    const pli = received.find((packet) => packet[1] === 206)!;
    t.same([pli[0], pli.length, pli.readUInt32BE(8)], [0x81, 12, stream.ssrc], 'PLI (FMT 1) for the publisher\'s SSRC');
    for (let i = 0; i < 30 && !received.some((packet) => packet[1] === 201); i++) {
      await publisher.frame(vp8Keyframe()); // keeps the camera live (Timeout 1) until the first report, due every 2 s
      await sleep(150);
    }
    const report = received.find((packet) => packet[1] === 201);
    if (!report) return t.fail('no receiver report within 4.5 s');
    t.equal(report[0]! & 0x1f, 1, 'one report block');
    t.equal(report.readUInt32BE(8), stream.ssrc, 'about the publisher\'s SSRC');
    t.ok(report.readUInt32BE(12) & 0xffffff, 'counting the lost packet');
    t.equal(relay.relay.push.sessionOf(id)!.counters.keyframeRequests, 1, 'one request per loss, not one per dropped frame');
    publisher.close();
    await sourceApi(relay.baseUrl, { action: 'stop_stream', utilization_id: id });
  });

  t.test('an unsupported payload type answers 4151; a flood to a port nobody was given changes nothing', async (t) => {
    const stream = await startStream(relay);
    const { id, port } = stream;
    const publisher = await FakePublisher.open(stream);
    for (let i = 0; i < 3; i++) await publisher.frame(vp8Keyframe(), { payloadType: 0 });
    await sleep(100);
    const answer = await sourceApi(relay.baseUrl, { action: 'validate_stream', utilization_id: id });
    t.same([answer.status, answer.json.error_code], [415, 4151]);
    const pairs = relay.relay.push.allocatedPairs;
    const unallocated = port === 34008 ? 34006 : 34008;
    for (let i = 0; i < 2000; i++) await publisher.raw(rtpBytes({ payloadType: 96, sequence: i, timestamp: i }, Buffer.alloc(1000, 0x10)), unallocated);
    t.equal(relay.relay.push.allocatedPairs, pairs);
    t.equal(relay.relay.push.sessionOf(id)!.counters.packets, 0);
    t.equal((await fetch(`${relay.baseUrl}/stat.json`)).status, 200, 'the relay answers');
    publisher.close();
    await sourceApi(relay.baseUrl, { action: 'stop_stream', utilization_id: id });
  });

  t.test('a publisher that stops without stop_stream: the camera fails after Timeout, ports freed, validate says 5002', async (t) => {
    await until('waiting', () => feed.state === 'waiting', 10_000);
    frames.length = 0;
    const stream = await startStream(relay);
    const { id, port } = stream;
    const publisher = await FakePublisher.open(stream);
    await publisher.frame(vp8Keyframe());
    for (let i = 0; i < 5; i++) await publisher.frame(vp8InterFrame());
    // Guards against a push camera staying 'waiting' when a second publisher streams within the same run of its source.
    await until('live', () => feed.state === 'live');
    publisher.close();
    await until('the camera to fail', () => feed.state === 'retrying', 4000);
    t.match(feed.status.lastError?.message, /TIMEOUT/);
    const answer = await sourceApi(relay.baseUrl, { action: 'validate_stream', utilization_id: id });
    t.same([answer.status, answer.json.error_code], [500, 5002]);
    const stop = await sourceApi(relay.baseUrl, { action: 'stop_stream', utilization_id: id });
    t.match([stop.status, stop.json], [500, { error_code: 5005, error_txt: /already ended it \((silent|closed)\)/ }],
      'a stop after the relay ended the stream says so (its silence check or the camera\'s Timeout, whichever fired first)');
    t.equal(relay.relay.push.allocatedPairs, 0, 'the ports are released');
    await until('waiting again after the backoff', () => feed.state === 'waiting', 10_000);
    const again = await startStream(relay);
    t.equal(again.port % 2, 0, 'a new stream can start');
    await sourceApi(relay.baseUrl, { action: 'stop_stream', utilization_id: again.id });
  });

  t.test('a frame over MaxFrameSize ends the stream with a PROTOCOL error', async (t) => {
    await until('waiting', () => feed.state === 'waiting', 10_000);
    const stream = await startStream(relay);
    const { id, port } = stream;
    const publisher = await FakePublisher.open(stream);
    await publisher.frame(vp8Keyframe());
    await publisher.frame(vp8InterFrame(70 * 1024), { chunk: 1200 });
    const session = relay.relay.push.sessionOf(id)!;
    await until('the camera to fail', () => feed.state === 'retrying', 4000);
    t.match(feed.status.lastError?.message, /PROTOCOL: VP8: frame larger than 65536 bytes/, JSON.stringify(session.counters));
    t.equal((await validate(relay, id)).error_code, 5002);
    t.equal(relay.relay.push.allocatedPairs, 0);
    publisher.close();
  });

  t.test('a stream started while the camera retries: 5004 until the camera runs, a keyframe asked for, taken from a keyframe on', async (t) => {
    // Guards against the Feed starting on an inter frame when its adapter attaches to a stream already under way.
    const state = (): string => feed.state;
    if (state() !== 'retrying') return t.fail(`the camera should be retrying after the last test, is ${state()}`);
    frames.length = 0;
    const stream = await startStream(relay);
    const { id, port } = stream;
    const publisher = await FakePublisher.open(stream);
    const rtcpIn = await rtcpPeer(t, port, stream.ssrc);
    await publisher.frame(vp8Keyframe());
    t.equal(state(), 'retrying', 'the keyframe went out while no adapter listened');
    await until('the session to stream', () => relay.relay.push.sessionOf(id)!.state === 'streaming');
    const early = await sourceApi(relay.baseUrl, { action: 'validate_stream', utilization_id: id });
    t.match([early.status, early.json], [500, { error_code: 5004 }], 'decodable frames, but the camera cannot go live yet');
    while (state() !== 'waiting') {
      await publisher.frame(vp8InterFrame());
      await sleep(100);
    }
    await until('a keyframe request as the camera attaches', () => rtcpIn.some((packet) => packet[1] === 206));
    for (let i = 0; i < 3; i++) await publisher.frame(vp8InterFrame());
    await sleep(100);
    t.equal(frames.length, 0, 'inter frames of a stream joined mid-way are not taken');
    t.same(await validate(relay, id), { validation_code: 3, validation_txt: 'the camera waits for the next keyframe (requested)', refused_packets: 0 });
    await publisher.frame(vp8Keyframe());
    await publisher.frame(vp8InterFrame());
    await until('2 frames', () => frames.length === 2);
    t.same(frames.map((frame) => frame.keyframe), [true, false]);
    t.equal((await validate(relay, id)).validation_code, 0, 'captured once the camera took the keyframe');
    publisher.close();
    await sourceApi(relay.baseUrl, { action: 'stop_stream', utilization_id: id });
  });

  t.test('FollowSSRC: a publisher that changes SSRC is followed, timestamps keep going forward', async (t) => {
    const follow = relay.relay.feeds.get('follow')!;
    const followed: VideoUnit[] = [];
    follow.subscribe((frame) => followed.push(frame));
    const stream = await startStream(relay, FOLLOW_KEY);
    const { id, port } = stream;
    const publisher = await FakePublisher.open(stream);
    await publisher.frame(vp8Keyframe());
    await publisher.frame(vp8InterFrame());
    await sleep(1000); // a restarted sender: silent a while, then a new SSRC, new sequence and timestamp bases
    publisher.timestamp = 5;
    publisher.sequence = 40_000;
    await publisher.frame(vp8Keyframe(), { ssrc: 0xcccc });
    await publisher.frame(vp8InterFrame(), { ssrc: 0xcccc });
    await until('4 frames', () => followed.length === 4);
    t.equal(relay.relay.push.sessionOf(id)!.counters.wrongSsrc, 0);
    t.ok(followed.every((frame, index) => index === 0 || frame.pts > followed[index - 1]!.pts), 'timestamps increase');
    publisher.close();
    await sourceApi(relay.baseUrl, { action: 'stop_stream', utilization_id: id });
  });
});
