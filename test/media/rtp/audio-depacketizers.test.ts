import t, { type Test } from 'tap';
import { adtsHeader } from '../../../media/aac/adts.ts';
import { parseAudioSpecificConfig } from '../../../media/aac/config.ts';
import { ProtocolError } from '../../../media/errors.ts';
import { AacHbrDepacketizer, auHeaderLayout } from '../../../media/rtp/aac-depacketizer.ts';
import { aacHbrFmtpParameters, packetizeAacHbr } from '../../../media/rtp/aac-packetizer.ts';
import type { AudioDepacketizer, RtpAudioUnit } from '../../../media/rtp/audio-depacketizer.ts';
import { g711Depacketizer, g711Track, packetizeG711 } from '../../../media/rtp/g711.ts';
import { LatmDepacketizer, parseStreamMuxConfig } from '../../../media/rtp/latm-depacketizer.ts';
import { isWellFormedOpusPacket, opusDepacketizer, packetizeOpus } from '../../../media/rtp/opus.ts';
import { buildRtpPacket } from '../../../media/rtp/packet.ts';
import { parseRtpPacket, type RtpPacket } from '../../../media/rtp/rtp.ts';
import { parseSdp } from '../../../media/rtsp/sdp.ts';
import { decodeAudio, ffmpegRtpTone, makeOpusUnits } from '../../helpers/audio.ts';
import { prng } from '../../helpers/prng.ts';

function depacketize(depacketizer: AudioDepacketizer, packets: readonly Buffer[]): RtpAudioUnit[] {
  return packets.flatMap((packet) => depacketizer.push(parseRtpPacket(packet)));
}

/** Raw AAC units as an ADTS stream ffmpeg can decode. */
function toAdts(units: readonly RtpAudioUnit[]): Buffer {
  const config = parseAudioSpecificConfig(units[0]!.track.config!);
  return Buffer.concat(units.flatMap((unit) => [adtsHeader(config, unit.data.length), unit.data]));
}

function checkSteps(t: Test, units: readonly RtpAudioUnit[], stepMs: number): void {
  t.equal(units[0]!.pts, 0, 'times start at 0');
  const wrong = units.findIndex((unit, i) => i > 0 && Math.abs(unit.pts - units[i - 1]!.pts - stepMs) > 0.01);
  t.equal(wrong, -1, `every unit ${stepMs} ms after the previous`);
}

t.test('ffmpeg mpeg4-generic (several AUs per packet) depacketizes to the tone', async (t) => {
  const { sdp, packets } = await ffmpegRtpTone(['-c:a', 'aac'], 2);
  const media = parseSdp(sdp).media[0]!;
  t.equal(media.encoding, 'MPEG4-GENERIC');
  const depacketizer = new AacHbrDepacketizer(Buffer.from(media.fmtp.get('config')!, 'hex'), auHeaderLayout(media.fmtp));
  const units = depacketize(depacketizer, packets);
  // ffmpeg's RTP muxer leaves out a last, partly filled packet: count the AUs its packets announce (16 header bits each).
  const sent = packets.reduce((sum, packet) => sum + parseRtpPacket(packet).payload.readUInt16BE(0) / 16, 0);
  t.ok(sent >= 85, `${sent} AUs sent`);
  t.equal(units.length, sent, `${units.length} AUs from ${packets.length} packets`);
  checkSteps(t, units, 1024 / 48);
  const decoded = await decodeAudio(toAdts(units), 'tone.aac');
  t.match(decoded, { sampleRate: 48000, channels: 1 });
  t.ok(Math.abs(decoded.duration - (sent * 1024) / 48000) <= 1024 / 48000 + 0.03, `duration ${decoded.duration}`);
  t.ok(decoded.toneDb > -40, `tone at ${decoded.toneDb} dBFS`);
});

t.test('ffmpeg MP4A-LATM (cpresent=0, config in the SDP) depacketizes to the tone', async (t) => {
  const { sdp, packets } = await ffmpegRtpTone(['-c:a', 'aac', '-rtpflags', 'latm'], 2);
  const media = parseSdp(sdp).media[0]!;
  t.equal(media.encoding, 'MP4A-LATM');
  const depacketizer = new LatmDepacketizer(Buffer.from(media.fmtp.get('config')!, 'hex'));
  t.match(depacketizer.track, { codec: 'aac', sampleRate: 48000, channels: 1 });
  const units = depacketize(depacketizer, packets);
  checkSteps(t, units, 1024 / 48);
  t.equal(depacketizer.droppedFrames, 0);
  const decoded = await decodeAudio(toAdts(units), 'tone.aac');
  t.ok(Math.abs(decoded.duration - 2) <= 1024 / 48000 + 0.03, `duration ${decoded.duration}`);
  t.ok(decoded.toneDb > -40, `tone at ${decoded.toneDb} dBFS`);
});

t.test('ffmpeg PCMA and Opus: one unit per packet, times from the RTP clock', async (t) => {
  const alaw = await ffmpegRtpTone(['-c:a', 'pcm_alaw', '-ar', '8000'], 1);
  t.equal(parseSdp(alaw.sdp).media[0]!.payloadTypes[0], 8);
  const pcma = depacketize(g711Depacketizer(g711Track('pcma')), alaw.packets);
  t.equal(pcma.reduce((sum, unit) => sum + unit.data.length, 0), 8000, 'one second of samples');
  t.ok(pcma.every((unit, i) => i === 0 || unit.pts > pcma[i - 1]!.pts));
  const decoded = await decodeAudio(Buffer.concat(pcma.map((unit) => unit.data)), 'tone.alaw', ['-f', 'alaw', '-ar', '8000', '-ac', '1']);
  t.ok(Math.abs(decoded.duration - 1) <= 0.03, `duration ${decoded.duration}`);
  t.ok(decoded.toneDb > -40, `tone at ${decoded.toneDb} dBFS`);
  const opus = await ffmpegRtpTone(['-c:a', 'libopus'], 1);
  t.equal(parseSdp(opus.sdp).media[0]!.clockRate, 48000);
  const units = depacketize(opusDepacketizer(), opus.packets);
  t.ok(units.length >= 50 && units.length <= 51, `${units.length} Opus packets`);
  checkSteps(t, units, 20);
});

t.test('AAC-hbr packetizer: whole AUs and fragments round-trip; loss inside a fragmented AU drops only that AU', async (t) => {
  const config = Buffer.from('1190', 'hex');
  t.match(aacHbrFmtpParameters(config), /mode=AAC-hbr;sizelength=13;indexlength=3;indexdeltalength=3;config=1190$/);
  const frames = [Buffer.alloc(300, 1), Buffer.alloc(1500, 2), Buffer.alloc(200, 3)];
  let sequence = 0;
  const packets = frames.map((frame, i) => packetizeAacHbr(frame, 512).map(({ payload, marker }) =>
    parseRtpPacket(buildRtpPacket({ payloadType: 97, sequence: sequence++, timestamp: 1000 + i * 1024, ssrc: 1, marker }, payload))));
  t.same(packets.map((list) => list.length), [1, 3, 1]);
  const depacketizer = new AacHbrDepacketizer(config);
  t.same(packets.flat().flatMap((packet) => depacketizer.push(packet)).map((unit) => unit.data), frames);
  const lossy = new AacHbrDepacketizer(config);
  lossy.push(packets[0]![0]!);
  lossy.push(packets[1]![0]!);
  lossy.markLoss();
  const after = [packets[1]![2]!, packets[2]![0]!].flatMap((packet) => lossy.push(packet));
  t.same(after.map((unit) => unit.data), [frames[2]], 'the tail of the damaged AU is dropped, the next AU plays');
  t.equal(lossy.droppedFrames, 2);
  t.throws(() => packetizeAacHbr(Buffer.alloc(0)), ProtocolError);
});

t.test('G.711 and Opus packetizers', async (t) => {
  const payloads = packetizeG711(Buffer.alloc(3000, 0xd5), 2, 1001);
  t.same(payloads.map((p) => [p.payload.length, p.timestampOffset]), [[1000, 0], [1000, 500], [1000, 1000]]);
  t.same(packetizeOpus(Buffer.alloc(100)), [{ payload: Buffer.alloc(100), marker: false }]);
  t.throws(() => packetizeOpus(Buffer.alloc(2000)), ProtocolError);
});

t.test('bad configuration is a clear PROTOCOL error', async (t) => {
  t.throws(() => auHeaderLayout(new Map([['sizelength', '40']])), /sizelength=40/);
  t.throws(() => auHeaderLayout(new Map([['sizelength', '0']])), ProtocolError);
  t.throws(() => new AacHbrDepacketizer(Buffer.from('1180', 'hex')), /channel configuration 0/);
  t.throws(() => parseStreamMuxConfig(Buffer.from('40', 'hex')), ProtocolError);
  t.throws(() => parseStreamMuxConfig(Buffer.from('4010231030', 'hex')), /program or layer/);
  t.throws(() => parseStreamMuxConfig(Buffer.from('40002310ffc0', 'hex')), /frameLengthType/);
  t.same(parseStreamMuxConfig(Buffer.from('400023103fc0', 'hex')).audioSpecificConfig, Buffer.from('1188', 'hex'));
});

t.test('hostile payloads never throw, never grow memory past one frame', async (t) => {
  const random = prng(3640);
  const depacketizers = [new AacHbrDepacketizer(Buffer.from('1190', 'hex')), new LatmDepacketizer(Buffer.from('400023103fc0', 'hex'))];
  const others = [g711Depacketizer(g711Track('pcmu')), opusDepacketizer()];
  for (let i = 0; i < 3000; i++) {
    const length = Math.floor(random() * 1400);
    const payload = Buffer.from(Array.from({ length }, () => Math.floor(random() * 256)));
    const packet: RtpPacket = { payloadType: 97, sequence: i & 0xffff, timestamp: Math.floor(random() * 4) * 1024, marker: random() < 0.3, ssrc: 1, payload };
    for (const depacketizer of [...depacketizers, ...others]) {
      try {
        depacketizer.push(packet);
        if (random() < 0.05) depacketizer.markLoss();
      } catch (error) {
        t.fail(`push threw ${String(error)}`);
      }
    }
    for (const depacketizer of depacketizers) if (depacketizer.bufferedBytes > 64 * 768 + 2048) t.fail(`holds ${depacketizer.bufferedBytes} bytes`);
  }
  t.ok(depacketizers.every((depacketizer) => depacketizer.droppedFrames > 0), 'garbage is counted as dropped');
});

// Guards FollowSSRC's sound: an SSRC on trial took over with the first payload, garbage or not.
t.test('Opus framing as RFC 6716 3.4 requires: libopus packets pass, malformed ones do not', async (t) => {
  const units = await makeOpusUnits(0.5);
  t.ok(units.length > 10 && units.every((unit) => isWellFormedOpusPacket(unit.data)), `libopus' ${units.length} packets are well formed`);
  t.ok(isWellFormedOpusPacket(Buffer.from([0xf8, 0xff, 0xfe])), 'one CELT frame (code 0)');
  t.ok(isWellFormedOpusPacket(Buffer.from([0xf9, 1, 2])), 'two equal frames (code 1)');
  t.ok(isWellFormedOpusPacket(Buffer.from([0xfa, 1, 9, 8, 7])), 'two frames, the first one byte long (code 2)');
  const malformed: Array<[string, number[]]> = [
    ['empty', []],
    ['code 1 with an odd length', [0xf9, 1, 2, 3]],
    ['code 2 whose first frame runs past the end', [0xfa, 200, 1, 2]],
    ['code 2 without its length', [0xfa]],
    ['code 3 with no frames', [0xfb, 0x00]],
    ['code 3 of more than 120 ms (7 SILK frames of 20 ms)', [(1 << 3) | 3, 7, 0]],
    ['one frame over 1275 bytes', [0xf8, ...new Array<number>(1276).fill(0)]],
  ];
  for (const [what, bytes] of malformed) t.notOk(isWellFormedOpusPacket(Buffer.from(bytes)), what);
});
