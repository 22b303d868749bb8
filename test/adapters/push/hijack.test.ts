// Guards against push ingest hijacking: RTP from anyone at the publisher's address taken without the handshake's SSRC
// (the first SSRC to reach a fresh, predictable port pair owned the camera), FollowSSRC joining spoofed packets into a
// running stream, one bad RTP/JPEG header ending a stream, and another SSRC's RTCP redirecting the stream's reports.
import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import t from 'tap';
import type { VideoUnit } from '../../../media/types.ts';
import { startTestRelay, type TestRelay } from '../../helpers/relay.ts';
import { rtpBytes } from '../rtsp/rtp-builder.ts';
import { rtcpPeer, sourceApi, stopChild } from './gst-publisher.ts';

const GATE_KEY = 'hijack-test-gate-key-01';
const FOLLOW_KEY = 'hijack-test-follow-key-1';
const FIRST_PORT = 36100;
const PAIRS = 50;

const conf = `RTPPortRange ${FIRST_PORT}-${FIRST_PORT + PAIRS * 2 - 1}
<Camera gate>
  Source push://
  PublishKey ${GATE_KEY}
  Timeout 5
</Camera>
<Camera follow>
  Source push://
  PublishKey ${FOLLOW_KEY}
  FollowSSRC yes
  Timeout 5
</Camera>
<Stream gate.mjpg>
  Feed gate
</Stream>
<Stream follow.mjpg>
  Feed follow
</Stream>
`;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** The attacker's picture: a scan no encoder writes, so its frames are recognised wherever they end up. */
const ATTACKER_SCAN = Buffer.alloc(400, 0xa5);
const isAttackers = (frame: VideoUnit): boolean => frame.data.includes(ATTACKER_SCAN.subarray(0, 64));
const ATTACKER_SSRC = 0x0bad_bad0;

/** One RTP/JPEG payload holding a whole 320x240 image (RFC 2435 main header: type 1, Q 50), or a bad header's type. */
function jpegPayload(scan: Buffer, type = 1): Buffer {
  return Buffer.concat([Buffer.from([0, 0, 0, 0, type, 50, 320 / 8, 240 / 8]), scan]);
}

/** A UDP sender of one-packet RTP/JPEG frames from 127.0.0.1 with its own SSRC, sequence and clock. */
async function jpegSender(ssrc: number, scanByte: number) {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
  // A sequence per destination port, as if one sender per port: no port sees gaps.
  const firstSequence = Math.floor(Math.random() * 60_000);
  const sequences = new Map<number, number>();
  // The 90 kHz clock follows real time, as a camera's does, wherever the packets go.
  const base = Math.floor(Math.random() * 2 ** 31);
  let timestamp = base;
  let sent = 0;
  return {
    get sent() {
      return sent;
    },
    /** Sends one frame (or, with `type`, a payload header the depacketizer cannot read) to `port`. */
    send(port: number, options: { ssrc?: number; type?: number } = {}): Promise<void> {
      timestamp = Math.max(timestamp + 1, base + Math.round(performance.now() * 90)) >>> 0;
      sent++;
      const scan = scanByte === 0xa5 ? ATTACKER_SCAN : Buffer.alloc(400, scanByte);
      const sequence = sequences.get(port) ?? firstSequence;
      sequences.set(port, sequence + 1);
      const packet = rtpBytes({ payloadType: 26, sequence, timestamp, marker: true, ssrc: options.ssrc ?? ssrc }, jpegPayload(scan, options.type));
      return new Promise((resolve) => socket.send(packet, port, '127.0.0.1', () => resolve()));
    },
    close: () => socket.close(),
  };
}

async function handshake(relay: TestRelay, key: string) {
  const id = (await sourceApi(relay.baseUrl, { action: 'new_utilization_id', key })).json.utilization_id as string;
  const started = await sourceApi(relay.baseUrl, { action: 'start_stream', key, utilization_id: id, width: 320, height: 240, codec: 'jpeg' });
  if (started.status !== 200) throw new Error(JSON.stringify(started.json));
  return { id, port: started.json.rtp_port as number, ssrc: started.json.ssrc as number | undefined };
}

const validate = async (relay: TestRelay, id: string) => (await sourceApi(relay.baseUrl, { action: 'validate_stream', utilization_id: id })).json;

t.test('push ingest against hijacking', async (t) => {
  const relay = await startTestRelay(conf);
  t.teardown(() => relay.stop());

  t.test('an attacker spraying RTP/JPEG at every port pair from the publisher\'s address gets nothing served', async (t) => {
    const feed = relay.relay.feeds.get('gate')!;
    const frames: VideoUnit[] = [];
    feed.subscribe((frame) => frames.push(frame));
    // The attacker never does the handshake: it sprays every even port of the range, before and during the stream.
    const attacker = await jpegSender(ATTACKER_SSRC, 0xa5);
    t.teardown(() => attacker.close());
    let spraying = true;
    const spray = (async () => {
      while (spraying) {
        for (let port = FIRST_PORT; port < FIRST_PORT + PAIRS * 2; port += 2) await attacker.send(port);
        await sleep(20);
      }
    })();
    await sleep(100);
    const { id, port, ssrc } = await handshake(relay, GATE_KEY);
    t.ok(Number.isInteger(ssrc) && ssrc! > 0 && ssrc! < 2 ** 31, `start_stream assigns an SSRC (${ssrc})`);
    await sleep(300);
    const beforePublisher = await validate(relay, id);
    t.match(beforePublisher, { validation_code: 4, validation_txt: /^no RTP packet taken: \d+ refused \(\d+ of another SSRC than the one start_stream assigned\)/ },
      'packets that reach the pair but are not the stream\'s are reported, not taken');
    t.ok((beforePublisher.refused_packets as number) > 0, 'with their count');

    // The real publisher: ffmpeg's RTP muxer told the assigned SSRC with -ssrc, as the README says.
    const ssrcArgs = ssrc === undefined ? [] : ['-ssrc', String(ssrc)];
    const ffmpeg = spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-re', '-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=25', '-t', '2.5',
      '-c:v', 'mjpeg', '-pix_fmt', 'yuvj420p', '-huffman', 'default', '-q:v', '5', '-f', 'rtp', ...ssrcArgs, `rtp://127.0.0.1:${port}`], { stdio: 'ignore' });
    t.teardown(() => stopChild(ffmpeg));
    await new Promise((resolve) => ffmpeg.once('exit', resolve));
    spraying = false;
    await spray;
    await sleep(50);
    const during = await validate(relay, id);

    const session = relay.relay.push.sessionOf(id)!;
    const attackerFrames = frames.filter(isAttackers).length;
    const publisherFrames = frames.length - attackerFrames;
    t.comment(`attacker frames served ${attackerFrames}, publisher frames served ${publisherFrames}, packets accepted ${session.counters.packets}, ` +
      `refused as another SSRC ${session.counters.wrongSsrc}; validate_stream: ${JSON.stringify(during)}`);
    t.equal(attackerFrames, 0, 'no frame of the attacker is served');
    t.ok(publisherFrames >= 25, `the publisher's frames are served (${publisherFrames} of ~62)`);
    t.equal(session.counters.frames, publisherFrames, 'every frame the stream took is the publisher\'s');
    t.ok(session.counters.wrongSsrc > 0 && session.counters.wrongSsrc <= attacker.sent, 'the attacker\'s packets are counted as another SSRC\'s');
    t.equal(session.counters.malformed, 0, 'ffmpeg\'s packets are all read');
    t.match(during, { validation_code: 0, validation_txt: /^stream captured: \d+ frames received; \d+ packets refused \(\d+ of another SSRC than the one start_stream assigned\)$/ },
      'the publisher is told its stream is captured and that packets were refused');
    t.equal(during.refused_packets, session.counters.wrongSsrc, 'refused_packets counts them');
    await sourceApi(relay.baseUrl, { action: 'stop_stream', utilization_id: id });
  });

  t.test('the port pair is picked at random, not the one after the last', async (t) => {
    const ports: number[] = [];
    for (let i = 0; i < 6; i++) {
      const { id, port } = await handshake(relay, GATE_KEY);
      ports.push(port);
      await sourceApi(relay.baseUrl, { action: 'stop_stream', utilization_id: id });
    }
    t.ok(ports.every((port) => port % 2 === 0 && port >= FIRST_PORT && port < FIRST_PORT + PAIRS * 2), `pairs of the range: ${ports.join(' ')}`);
    const successors = ports.slice(1).filter((port, index) => port === ports[index]! + 2).length;
    t.ok(successors < 5, `the next publisher's port does not follow from the last one's (${successors} of 5 did)`);
  });

  t.test('FollowSSRC: spoofed packets do not join a running stream, a bad packet does not end it, a real restart is followed', async (t) => {
    const feed = relay.relay.feeds.get('follow')!;
    const frames: VideoUnit[] = [];
    feed.subscribe((frame) => frames.push(frame));
    const { id, port, ssrc } = await handshake(relay, FOLLOW_KEY);
    const publisher = await jpegSender(ssrc ?? 0x5151_5151, 0x11);
    const attacker = await jpegSender(ATTACKER_SSRC, 0xa5);
    t.teardown(() => {
      publisher.close();
      attacker.close();
    });
    // RTCP from the publisher, then from the attacker (same address, its own SSRC): reports must still go to the publisher.
    const publisherRtcp = await rtcpPeer(t, port, ssrc ?? 0x5151_5151);
    await sleep(20);
    const attackerRtcp = await rtcpPeer(t, port, ATTACKER_SSRC);
    // 25 fps from the publisher for 3 s; the attacker slips a frame in every 100 ms from the same address.
    let badAt = 0;
    for (let tick = 0; tick < 75; tick++) {
      await publisher.send(port);
      if (tick % 5 === 2) await attacker.send(port);
      if (tick === 37) {
        await attacker.send(port, { type: 5 }); // a bad RTP/JPEG header under a new SSRC
        await publisher.send(port, { type: 5 }); // and under the stream's own SSRC
        badAt = frames.length;
      }
      await sleep(40);
    }
    await sleep(100);
    const session = relay.relay.push.sessionOf(id)!;
    const attackerFrames = frames.filter(isAttackers).length;
    t.comment(`attacker frames served ${attackerFrames} of ${frames.length}; wrong SSRC ${session.counters.wrongSsrc}, malformed ${session.counters.malformed}, ` +
      `state ${session.state} (${session.endReason ?? 'running'})`);
    t.equal(session.state, 'streaming', 'the stream goes on after the bad packets');
    t.equal(attackerFrames, 0, 'no spoofed frame is served');
    t.equal(session.counters.wrongSsrc, attacker.sent, 'every spoofed packet is counted as another SSRC\'s');
    t.equal(session.counters.malformed, 1, 'the bad header under the stream\'s SSRC is dropped and counted');
    t.ok(frames.length - badAt >= 30, `frames keep coming after the bad packets (${frames.length - badAt})`);
    const isReport = (packet: Buffer): boolean => packet[1] === 201 || packet[1] === 206;
    t.ok(publisherRtcp.some(isReport), 'receiver reports go to the publisher\'s RTCP port');
    t.equal(attackerRtcp.filter(isReport).length, 0, 'none to the port of another SSRC\'s RTCP');
    t.match(await validate(relay, id), { validation_code: 0, validation_txt: /refused \(\d+ of another SSRC than the one start_stream assigned, 1 malformed\)/ });

    // A publisher that restarts: silent for a while, then a new SSRC from a keyframe (every JPEG is one).
    await sleep(1200);
    const restarted = await jpegSender(0x5eed_5eed, 0x22);
    t.teardown(() => restarted.close());
    const before = frames.length;
    for (let i = 0; i < 10; i++) {
      await restarted.send(port);
      await sleep(40);
    }
    await sleep(100);
    const followed = frames.slice(before);
    t.equal(followed.length, 10, 'the restarted publisher is followed from its first frame');
    t.ok(followed.every((frame) => frame.data.includes(Buffer.alloc(64, 0x22))), 'its frames');
    t.ok(followed.every((frame, index) => frame.pts > (index === 0 ? frames[before - 1]!.pts : followed[index - 1]!.pts)), 'timestamps keep going forward');
    t.equal(session.counters.wrongSsrc, attacker.sent, 'a restart is not counted as another SSRC');
    await sourceApi(relay.baseUrl, { action: 'stop_stream', utilization_id: id });
  });
});
