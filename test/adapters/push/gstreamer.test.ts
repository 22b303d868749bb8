import dgram from 'node:dgram';
import { payloadBytes } from '../../helpers/sink.ts';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import type { VideoUnit } from '../../../media/types.ts';
import { ffprobe } from '../../helpers/probe.ts';
import { decodeAudio } from '../../helpers/audio.ts';
import { captureStream } from '../../helpers/picture.ts';
import { startTestRelay, type TestRelay } from '../../helpers/relay.ts';
import { sourceApi, startGstPublisher, stopChild, waitValidated, type PublisherCodec } from './gst-publisher.ts';

const run = promisify(execFile);
const KEY = 'front-door-publish-key';
/** A 1 kHz tone through the relay is far above silence (-inf or below -90 dBFS) after a 1 kHz band-pass. */
const TONE_DB = -40;
/** Lip sync: the broadcast tolerance the relay keeps, on the first audio and video times of a capture. */
const SYNC_MS = 45;

const conf = `RTPPortRange 33000-33099
<Camera door>
  Source push://
  PublishKey ${KEY}
  Timeout 5
</Camera>
<Stream door.flv>
  Feed door
  VideoSize 320x240
  VideoFrameRate 25
  VideoBitRate 300
</Stream>
<Stream door.m3u8>
  Feed door
  VideoSize 320x240
  VideoFrameRate 25
  VideoBitRate 300
  HLSSegmentTime 1
</Stream>
<Stream door.jpg>
  Feed door
</Stream>
<Stream stat.html>
  Format status
</Stream>
`;

/** VP8 frames in an IVF file, the container ffprobe reads raw VP8 from. */
function ivf(frames: readonly VideoUnit[], width: number, height: number): Buffer {
  const header = Buffer.alloc(32);
  header.write('DKIF', 0, 'ascii');
  header.writeUInt16LE(32, 6);
  header.write('VP80', 8, 'ascii');
  header.writeUInt16LE(width, 12);
  header.writeUInt16LE(height, 14);
  header.writeUInt32LE(1000, 16);
  header.writeUInt32LE(1, 20);
  header.writeUInt32LE(frames.length, 24);
  const parts: Buffer[] = [header];
  for (const frame of frames) {
    const frameHeader = Buffer.alloc(12);
    frameHeader.writeUInt32LE(payloadBytes(frame).length, 0);
    frameHeader.writeBigUInt64LE(BigInt(Math.round(frame.pts)), 4);
    parts.push(frameHeader, payloadBytes(frame));
  }
  return Buffer.concat(parts);
}

async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function statusText(relay: TestRelay): Promise<string> {
  return (await fetch(`${relay.baseUrl}/stat.html`)).text();
}

for (const codec of ['vp8', 'h264', 'jpeg'] as PublisherCodec[]) {
  t.test(`a GStreamer ${codec} publisher: handshake, validate_stream 0, frames in the Feed, FLV, HLS and JPEG play, stop_stream frees the ports`, async (t) => {
    const relay = await startTestRelay(conf);
    t.teardown(() => relay.stop());
    const feed = relay.relay.feeds.get('door')!;
    await waitFor('the camera to wait for its publisher', () => feed.state === 'waiting');
    t.match(await statusText(relay), 'waiting for publisher', '/stat.html says the camera waits for its publisher');

    const id = (await sourceApi(relay.baseUrl, { action: 'new_utilization_id', key: KEY })).json.utilization_id as string;
    // The H.264 publisher sends an Opus tone beside its picture, on the second port pair start_stream gives for it.
    const withSound = codec === 'h264';
    const started = await sourceApi(relay.baseUrl, { action: 'start_stream', key: KEY, utilization_id: id, width: 320, height: 240, codec, ...(withSound ? { audio: 'opus' } : {}) });
    t.equal(started.status, 200);
    const rtpPort = started.json.rtp_port as number;
    t.equal(rtpPort % 2, 0, 'the RTP port is even');
    t.equal(started.json.rtcp_port, rtpPort + 1, 'RTCP on the next port');
    t.equal(started.json.url, `rtp://127.0.0.1:${rtpPort}`);
    const ssrc = started.json.ssrc as number;
    t.ok(Number.isInteger(ssrc) && ssrc > 0 && ssrc < 2 ** 31, 'an SSRC every sender can be told to use');

    const frames: VideoUnit[] = [];
    feed.subscribe((frame) => frames.push(frame));
    const audio = withSound ? { rtpPort: started.json.audio_rtp_port as number, rtcpPort: started.json.audio_rtcp_port as number, ssrc: started.json.audio_ssrc as number } : undefined;
    if (audio) {
      t.ok(audio.rtpPort % 2 === 0 && audio.rtpPort !== rtpPort && audio.rtcpPort === audio.rtpPort + 1, 'a second even port pair for the sound');
      t.equal(started.json.audio_url, `rtp://127.0.0.1:${audio.rtpPort}`);
      t.not(audio.ssrc, ssrc, 'an SSRC of its own for the sound');
    } else {
      t.equal(started.json.audio_rtp_port, undefined, 'no sound ports unless asked for');
    }
    const publisher = startGstPublisher({ codec, host: '127.0.0.1', rtpPort, rtcpPort: rtpPort + 1, ssrc, audio });
    t.teardown(() => stopChild(publisher));
    const validated = await waitValidated(relay.baseUrl, id);
    t.match(validated.validation_txt, /stream captured/);
    await waitFor('50 frames', () => frames.length >= 50);
    t.equal(feed.state, 'live');
    t.ok(frames.every((frame) => frame.track.codec === codec), `every frame is ${codec}`);
    t.ok(frames[0]!.keyframe, 'the Feed starts on a keyframe');
    const stamps = frames.map((frame) => frame.pts);
    t.ok(stamps.every((stamp, index) => index === 0 || stamp >= stamps[index - 1]!), 'timestamps never go backwards');
    const spanMs = stamps.at(-1)! - stamps[0]!;
    t.ok(spanMs > 49 * 40 * 0.7 && spanMs < 49 * 40 * 1.5, `RTP timestamps give the source's 25 fps (${spanMs} ms for 50 frames)`);

    if (codec === 'vp8') {
      // The relay does not decode VP8 itself; ffprobe decoding the frames as received proves them whole.
      const dir = await mkdtemp(join(tmpdir(), 'push-vp8-'));
      t.teardown(() => rm(dir, { recursive: true, force: true }));
      const file = join(dir, 'frames.ivf');
      await writeFile(file, ivf(frames.slice(0, 50), 320, 240));
      const { stdout } = await run('ffprobe', ['-v', 'error', '-count_frames', '-select_streams', 'v:0', '-show_entries',
        'stream=codec_name,width,height,nb_read_frames', '-of', 'json', file], { timeout: 30_000 });
      const probed = JSON.parse(stdout).streams[0];
      t.same([probed.codec_name, probed.width, probed.height], ['vp8', 320, 240]);
      t.equal(Number(probed.nb_read_frames), 50, 'all 50 frames decode');
    }
    {
      const flv = await ffprobe(`${relay.baseUrl}/door.flv`, 2);
      t.same([flv.codec_name, flv.width, flv.height], ['h264', 320, 240], '/door.flv decodes');
      t.ok(Number(flv.nb_read_frames) > 10, `/door.flv has frames (${flv.nb_read_frames})`);
      if (withSound) {
        // The publisher's rtpbin sends sender reports for both tracks: the sound is placed by them, not by arrival.
        const soundData = async () => (await sourceApi(relay.baseUrl, { action: 'get_data', utilization_id: id, data: 'stream' })).json.data as { audio: Record<string, unknown> };
        await waitFor('the sound placed by sender reports', async () => (await soundData()).audio.synced_by_sender_reports === true, 10_000);
        const decoded = await decodeAudio(await captureStream(`${relay.baseUrl}/door.flv`, 3000), 'door.flv');
        t.equal(decoded.codec, 'aac', 'the publisher\'s Opus is AAC in the FLV');
        t.ok(decoded.toneDb > TONE_DB, `the publisher's 1 kHz tone is there (${decoded.toneDb.toFixed(1)} dBFS)`);
        t.ok(decoded.duration > 2, `${decoded.duration} s of sound in 3 s`);
        const offsetMs = (decoded.startTime - decoded.videoStartTime!) * 1000;
        t.ok(Math.abs(offsetMs) <= SYNC_MS, `the sound starts ${offsetMs.toFixed(0)} ms from the picture`);
        const data = await soundData();
        t.match(data.audio, { codec: 'opus', packets: Number, frames: Number, refused: 0 }, 'get_data counts the sound');
        t.ok((data.audio.frames as number) > 100, `Opus frames taken (${data.audio.frames})`);
      }
      await waitFor('the HLS playlist', async () => (await fetch(`${relay.baseUrl}/door.m3u8`)).status === 200, 20_000);
      const hls = await ffprobe(`${relay.baseUrl}/door.m3u8`, 2);
      t.same([hls.codec_name, hls.width, hls.height], ['h264', 320, 240], '/door.m3u8 decodes');
    }

    let snapshot = Buffer.alloc(0);
    await waitFor('a JPEG snapshot', async () => {
      const response = await fetch(`${relay.baseUrl}/door.jpg`);
      snapshot = Buffer.from(await response.arrayBuffer());
      return response.status === 200;
    }, 20_000);
    t.same([snapshot[0], snapshot[1], snapshot.at(-2), snapshot.at(-1)], [0xff, 0xd8, 0xff, 0xd9], '/door.jpg is a whole JPEG');

    const session = relay.relay.push.sessionOf(id)!;
    await waitFor('RTCP both ways', () => session.counters.rtcpIn > 0 && session.counters.rtcpOut > 0, 8000);
    t.pass('sender reports arrive and receiver reports go back');
    t.same([session.counters.foreign, session.counters.wrongSsrc, session.counters.malformed], [0, 0, 0]);

    t.same((await sourceApi(relay.baseUrl, { action: 'stop_stream', utilization_id: id })).json, { ok: 'stream stopped successfully' });
    await waitFor('the camera to wait again', () => feed.state === 'waiting');
    t.match(await statusText(relay), 'waiting for publisher');
    const counted = frames.length;
    await new Promise((resolve) => setTimeout(resolve, 300));
    t.equal(frames.length, counted, 'no frame after stop_stream, though the publisher still sends');
    for (const port of [rtpPort, rtpPort + 1]) {
      const socket = dgram.createSocket('udp4');
      await new Promise<void>((resolve, reject) => socket.once('error', reject).bind(port, '127.0.0.1', () => resolve()));
      socket.close();
    }
    t.pass('both ports are free after stop_stream');
    t.equal(relay.relay.push.allocatedPairs, 0);
    t.same(relay.logs.filter((line) => / (error|warn) /.test(line)), [], 'no error or warning lines');
  });
}
