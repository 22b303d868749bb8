import t from 'tap';
import { toAvcc } from '../../media/h264/annexb.ts';
import { withParameterSets } from '../../media/h264/params.ts';
import { MkvWriter } from '../../media/mkv-writer.ts';
import { g711Depacketizer, g711Track } from '../../media/rtp/g711.ts';
import { parseRtpPacket } from '../../media/rtp/rtp.ts';
import type { AudioTrack, H264Track } from '../../media/types.ts';
import { decodeAudio, ffmpegRtpTone, makeAvUnits, makeOpusUnits } from '../helpers/audio.ts';

t.test('Matroska with H.264 and AAC: ffmpeg reads the tone with its times, audio and video start together', async (t) => {
  const { video, audio } = await makeAvUnits(2);
  const track = video[0]!.track as H264Track;
  const writer = new MkvWriter({ codec: 'h264', codecPrivate: track.avcC, width: track.width, height: track.height }, audio[0]!.track as AudioTrack);
  const blocks = [
    ...video.map((unit) => ({ time: unit.dts, bytes: () => writer.block(toAvcc(withParameterSets(unit)), unit.dts, unit.keyframe) })),
    ...audio.map((unit) => ({ time: unit.dts, bytes: () => writer.audioBlock(unit.data, unit.dts) })),
  ].sort((a, b) => a.time - b.time);
  const file = Buffer.concat([writer.header(), ...blocks.map((block) => block.bytes())]);
  const decoded = await decodeAudio(file, 'av.mkv');
  t.match(decoded, { codec: 'aac', sampleRate: 48000, channels: 1 });
  t.ok(Math.abs(decoded.duration - (audio.length * 1024) / 48000) <= 1024 / 48000 + 0.03, `duration ${decoded.duration} for ${audio.length} frames`);
  t.ok(decoded.toneDb > -40, `tone at ${decoded.toneDb} dBFS`);
  t.ok(Math.abs(decoded.startTime - decoded.videoStartTime!) <= 0.045, `audio starts at ${decoded.startTime}, video at ${decoded.videoStartTime}`);
});

t.test('audio-only Matroska for a converter: PCMA and Opus from ffmpeg RTP keep their true times', async (t) => {
  const { packets } = await ffmpegRtpTone(['-c:a', 'pcm_alaw', '-ar', '8000'], 1);
  const depacketizer = g711Depacketizer(g711Track('pcma'));
  const pcma = packets.flatMap((packet) => depacketizer.push(parseRtpPacket(packet)));
  const writer = new MkvWriter(undefined, pcma[0]!.track);
  const offsetMs = 500; // the camera's timeline does not start at 0: the file says so
  const file = Buffer.concat([writer.header(), ...pcma.map((unit) => writer.audioBlock(unit.data, unit.pts + offsetMs))]);
  const decoded = await decodeAudio(file, 'pcma.mkv');
  t.match(decoded, { codec: 'pcm_alaw', sampleRate: 8000, channels: 1 });
  t.ok(Math.abs(decoded.startTime - 0.5) <= 0.001, `starts at ${decoded.startTime}`);
  t.ok(Math.abs(decoded.duration - 1) <= 0.03, `duration ${decoded.duration}`);
  t.ok(decoded.toneDb > -40, `tone at ${decoded.toneDb} dBFS`);
  const opus = await makeOpusUnits(1);
  const opusWriter = new MkvWriter(undefined, opus[0]!.track);
  const opusFile = Buffer.concat([opusWriter.header(), ...opus.map((unit) => opusWriter.audioBlock(unit.data, unit.pts))]);
  const opusDecoded = await decodeAudio(opusFile, 'opus.mkv');
  t.match(opusDecoded, { codec: 'opus', sampleRate: 48000, channels: 1 });
  t.ok(Math.abs(opusDecoded.duration - opus.length * 0.02) <= 0.05, `duration ${opusDecoded.duration} for ${opus.length} packets`);
  t.ok(opusDecoded.toneDb > -40, `tone at ${opusDecoded.toneDb} dBFS`);
});

t.test('writers that cannot work are refused at once', async (t) => {
  t.throws(() => new MkvWriter(undefined), /needs a track/);
  t.throws(() => new MkvWriter(undefined, { kind: 'audio', codec: 'aac', clockRate: 8000, sampleRate: 8000, channels: 1 }), { name: 'ProtocolError' });
  t.throws(() => new MkvWriter({ codec: 'jpeg' }).audioBlock(Buffer.alloc(1), 0), /no audio track/);
});
