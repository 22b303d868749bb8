// Guards a pushed stream's sound across a publisher's restart with FollowSSRC: the picture followed the new SSRC but the
// sound took only the SSRC start_stream assigned, so the camera came back mute until the next start_stream.
import dgram from 'node:dgram';
import t, { type Test } from 'tap';
import { decodeAudio } from '../../helpers/audio.ts';
import { captureStream } from '../../helpers/picture.ts';
import { ffprobe } from '../../helpers/probe.ts';
import { startTestRelay, type TestRelay } from '../../helpers/relay.ts';
import { rtpBytes } from '../rtsp/rtp-builder.ts';
import { sourceApi, startGstPublisher, stopChild, waitValidated } from './gst-publisher.ts';

const PORCH_KEY = 'follow-sound-porch-key-1';
const YARD_KEY = 'follow-sound-yard-key-01';
const GATE_KEY = 'follow-sound-gate-key-01';
/** A 1 kHz tone through the relay is far above silence (-inf or below -90 dBFS) after a 1 kHz band-pass. */
const TONE_DB = -40;
/** Lip sync: the broadcast tolerance the relay keeps, on the first audio and video times of a capture. */
const SYNC_MS = 45;

const stream = (camera: string) => `<Stream ${camera}.flv>
  Feed ${camera}
  VideoSize 320x240
  VideoFrameRate 25
  VideoBitRate 300
</Stream>
`;
const conf = `RTPPortRange 37400-37499
<Camera porch>
  Source push://
  PublishKey ${PORCH_KEY}
  FollowSSRC yes
  Timeout 5
</Camera>
<Camera yard>
  Source push://
  PublishKey ${YARD_KEY}
  FollowSSRC yes
  Timeout 10
</Camera>
<Camera gate>
  Source push://
  PublishKey ${GATE_KEY}
  Timeout 10
</Camera>
${stream('porch')}${stream('yard')}${stream('gate')}`;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

interface StartedWithSound {
  id: string;
  rtpPort: number;
  ssrc: number;
  audio: { rtpPort: number; rtcpPort: number; ssrc: number };
}

async function startWithSound(relay: TestRelay, key: string, codec = 'h264'): Promise<StartedWithSound> {
  const id = (await sourceApi(relay.baseUrl, { action: 'new_utilization_id', key })).json.utilization_id as string;
  const started = await sourceApi(relay.baseUrl, { action: 'start_stream', key, utilization_id: id, width: 320, height: 240, codec, audio: 'opus' });
  if (started.status !== 200) throw new Error(JSON.stringify(started.json));
  const json = started.json;
  return {
    id, rtpPort: json.rtp_port as number, ssrc: json.ssrc as number,
    audio: { rtpPort: json.audio_rtp_port as number, rtcpPort: json.audio_rtcp_port as number, ssrc: json.audio_ssrc as number },
  };
}

interface SoundData {
  packets: number;
  frames: number;
  refused: number;
  synced_by_sender_reports: boolean;
}

const soundData = async (relay: TestRelay, id: string): Promise<SoundData> =>
  ((await sourceApi(relay.baseUrl, { action: 'get_data', utilization_id: id, data: 'stream' })).json.data as { audio: SoundData }).audio;

/** An SSRC below 2^31 other than `ssrc`, as a restarted sender picks at random. */
const otherSsrc = (ssrc: number): number => ((ssrc ^ 0x2468_ace0) & 0x7fff_ffff) || 1;

t.test('a publisher with sound restarts with new SSRCs: FLV viewers get its tone and picture again', async (t) => {
  const relay = await startTestRelay(conf);
  t.teardown(() => relay.stop());
  const started = await startWithSound(relay, PORCH_KEY);
  const { id, rtpPort } = started;
  const first = startGstPublisher({ codec: 'h264', host: '127.0.0.1', rtpPort, rtcpPort: rtpPort + 1, ssrc: started.ssrc, audio: started.audio });
  t.teardown(() => stopChild(first));
  await waitValidated(relay.baseUrl, id);
  await waitFor('the sound placed by sender reports', async () => (await soundData(relay, id)).synced_by_sender_reports, 10_000);
  const before = await decodeAudio(await captureStream(`${relay.baseUrl}/porch.flv`, 2500), 'porch.flv');
  t.ok(before.toneDb > TONE_DB, `the tone before the restart (${before.toneDb.toFixed(1)} dBFS)`);

  // The publisher's process dies and comes back, as a restarted sender: silent a while, then new SSRCs and RTP bases.
  await stopChild(first);
  await sleep(1500);
  const framesBefore = (await soundData(relay, id)).frames;
  const audio = { ...started.audio, ssrc: otherSsrc(started.audio.ssrc) };
  const second = startGstPublisher({ codec: 'h264', host: '127.0.0.1', rtpPort, rtcpPort: rtpPort + 1, ssrc: otherSsrc(started.ssrc), audio });
  t.teardown(() => stopChild(second));
  await waitFor('2 s of the new sender\'s sound, placed by its sender reports', async () => {
    const data = await soundData(relay, id);
    return data.frames > framesBefore + 100 && data.synced_by_sender_reports;
  }, 15_000);

  const after = await decodeAudio(await captureStream(`${relay.baseUrl}/porch.flv`, 3000), 'porch.flv');
  t.ok(after.toneDb > TONE_DB, `the tone after the restart (${after.toneDb.toFixed(1)} dBFS)`);
  t.ok(after.duration > 2, `${after.duration} s of sound in 3 s`);
  t.not(after.videoStartTime, undefined, 'and a picture beside it');
  // Guards the picture's times squeezing the restart's silence to 1 ms while the sound, placed by arrival, kept it whole.
  const offsetMs = (after.startTime - after.videoStartTime!) * 1000;
  t.ok(Math.abs(offsetMs) <= SYNC_MS, `the sound starts ${offsetMs.toFixed(0)} ms from the picture: the new sender's reports place it`);
  const picture = await ffprobe(`${relay.baseUrl}/porch.flv`, 2);
  t.same([picture.codec_name, picture.width, picture.height], ['h264', 320, 240], 'the picture decodes after the restart');
  const session = relay.relay.push.sessionOf(id)!;
  t.equal(session.counters.wrongSsrc, 0, 'the picture\'s restart is not counted as another SSRC');
  t.equal((await soundData(relay, id)).refused, 0, 'nor the sound\'s');
  await sourceApi(relay.baseUrl, { action: 'stop_stream', utilization_id: id });
});

/** Opus packets from one UDP socket (at the publisher's address unless told another), each SSRC with its own sequence and RTP clock. */
async function opusSender(t: Test, port: number, address = '127.0.0.1') {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, address, () => resolve()));
  t.teardown(() => socket.close());
  const clocks = new Map<number, { sequence: number; timestamp: number }>();
  return {
    /** Sends `count` packets of `ssrc`, 20 ms apart, each with `payload`. */
    async send(ssrc: number, count: number, payload: Buffer): Promise<void> {
      const clock = clocks.get(ssrc) ?? { sequence: ssrc & 0xffff, timestamp: ssrc >>> 3 };
      clocks.set(ssrc, clock);
      for (let i = 0; i < count; i++) {
        const packet = rtpBytes({ payloadType: 97, sequence: clock.sequence++, timestamp: (clock.timestamp += 960), ssrc }, payload);
        await new Promise((resolve) => socket.send(packet, port, '127.0.0.1', resolve));
        await sleep(20);
      }
    },
  };
}

/** 20 ms of CELT silence: a TOC byte (config 31, one frame) and a frame, as a decoder reads it. */
const OPUS_FRAME = Buffer.from([0xf8, 0xff, 0xfe]);
/** Payloads no Opus decoder takes (RFC 6716 3.4): two frames of unequal halves, no frames, a frame length past the end. */
const GARBAGE = [Buffer.from([0xf9, 1, 2, 3]), Buffer.from([0xfb, 0x00]), Buffer.from([0xfa, 200, 1, 2])];

t.test('hostile sound: another SSRC while the publisher talks, garbage on trial, no FollowSSRC', async (t) => {
  const relay = await startTestRelay(conf);
  t.teardown(() => relay.stop());

  t.test('FollowSSRC: a foreign SSRC is refused while the current one talks; garbage on trial does not take over', async (t) => {
    const { id, audio } = await startWithSound(relay, YARD_KEY, 'vp8');
    const sender = await opusSender(t, audio.rtpPort);
    const foreign = 0x0bad_bad0;
    for (let i = 0; i < 5; i++) {
      await sender.send(audio.ssrc, 5, OPUS_FRAME);
      await sender.send(foreign, 1, OPUS_FRAME);
    }
    t.match(await soundData(relay, id), { packets: 25, refused: 5 }, 'the foreign SSRC\'s packets are refused and counted');

    await sleep(1000); // the publisher falls silent as a restarted one would
    const elsewhere = await opusSender(t, audio.rtpPort, '127.0.0.2');
    await elsewhere.send(0x0e15_e000, 5, OPUS_FRAME);
    t.match(await soundData(relay, id), { packets: 25, refused: 10 }, 'a new SSRC from another address than the handshake\'s is refused');
    const garbling = 0x0666_0666;
    for (let i = 0; i < 10; i++) await sender.send(garbling, 1, GARBAGE[i % GARBAGE.length]!);
    t.match(await soundData(relay, id), { packets: 25, refused: 20 }, 'an SSRC on trial that sends garbage does not take over');
    const restarted = 0x0123_4567;
    await sender.send(restarted, 5, OPUS_FRAME);
    t.match(await soundData(relay, id), { packets: 25, refused: 25 }, 'one trial at a time: another SSRC waits while the garbage has its time');

    await sleep(2000); // the garbage's trial is over
    await sender.send(restarted, 10, OPUS_FRAME);
    t.match(await soundData(relay, id), { packets: 35, refused: 25 }, 'then a new SSRC with Opus a decoder takes is followed');
    await sender.send(audio.ssrc, 3, OPUS_FRAME);
    t.match(await soundData(relay, id), { packets: 35, refused: 28 }, 'and the old SSRC is a foreign one now');
    await sourceApi(relay.baseUrl, { action: 'stop_stream', utilization_id: id });
  });

  t.test('without FollowSSRC a new audio SSRC stays refused, however long the silence before it', async (t) => {
    const { id, audio } = await startWithSound(relay, GATE_KEY, 'vp8');
    const sender = await opusSender(t, audio.rtpPort);
    await sender.send(audio.ssrc, 10, OPUS_FRAME);
    await sleep(1000);
    await sender.send(otherSsrc(audio.ssrc), 10, OPUS_FRAME);
    t.match(await soundData(relay, id), { packets: 10, refused: 10 }, 'the new SSRC\'s packets are refused and counted');
    await sourceApi(relay.baseUrl, { action: 'stop_stream', utilization_id: id });
  });
});
