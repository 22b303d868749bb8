import t from 'tap';
import { FlvAudioReader, flvAacSequenceHeader, flvAacTag } from '../../media/flv/audio.ts';
import { flvHeader, flvMetadata, flvSequenceHeader, flvTag, flvVideoTag } from '../../media/flv/mux.ts';
import { FlvTagReader, FlvTagType } from '../../media/flv/tags.ts';
import { ProtocolError } from '../../media/errors.ts';
import type { AudioTrack, H264Track } from '../../media/types.ts';
import { decodeAudio, makeAvUnits } from '../helpers/audio.ts';

t.test('ffmpeg FLV with AAC yields audio units; rewritten with the relay FLV writer it decodes to the tone, in sync with the video', async (t) => {
  const { video, audio } = await makeAvUnits(2);
  t.ok(audio.length >= 92, `${audio.length} AAC frames`);
  const track = audio[0]!.track as AudioTrack;
  t.match(track, { codec: 'aac', sampleRate: 48000, channels: 1, clockRate: 48000 });
  for (let i = 1; i < audio.length; i++) t.ok(audio[i]!.pts > audio[i - 1]!.pts, `audio time increases at ${i}`);
  const videoTrack = video[0]!.track as H264Track;
  const tags: Array<{ time: number; bytes: Buffer }> = [
    ...video.map((unit) => ({ time: unit.dts, bytes: flvVideoTag(unit, unit.dts) })),
    ...audio.map((unit) => ({ time: unit.dts, bytes: flvAacTag(unit, unit.dts) })),
  ].sort((a, b) => a.time - b.time);
  const file = Buffer.concat([flvHeader(true), flvMetadata(videoTrack, 10, 0, track), flvSequenceHeader(videoTrack, 0), flvAacSequenceHeader(track, 0),
    ...tags.map((tag) => tag.bytes)]);
  const parsed = new FlvTagReader().push(file);
  t.equal(parsed.filter((tag) => tag.sequenceHeader).length, 2, 'AVC and AAC sequence headers are marked');
  const decoded = await decodeAudio(file, 'av.flv');
  t.match(decoded, { codec: 'aac', sampleRate: 48000, channels: 1 });
  t.ok(Math.abs(decoded.duration - 2) <= 1024 / 48000 + 0.03, `duration ${decoded.duration}`);
  t.ok(decoded.toneDb > -40, `tone at ${decoded.toneDb} dBFS`);
  t.ok(Math.abs(decoded.startTime - decoded.videoStartTime!) <= 0.045, `audio starts at ${decoded.startTime}, video at ${decoded.videoStartTime}`);
});

t.test('the video-only header is unchanged; G.711 tags become 8 kHz units; odd audio tags are ignored, not fatal', async (t) => {
  t.same([...flvHeader()], [0x46, 0x4c, 0x56, 1, 1, 0, 0, 0, 9, 0, 0, 0, 0]);
  const reader = new FlvAudioReader();
  const tag = (data: number[], time = 0) => new FlvTagReader().push(Buffer.concat([flvHeader(true), flvTag(FlvTagType.audio, time, Buffer.from(data))]))[0]!;
  t.match(reader.read(tag([0x72, 1, 2, 3], 40)), { track: { codec: 'pcma', sampleRate: 8000, channels: 1 }, pts: 40, data: Buffer.from([1, 2, 3]) });
  t.match(reader.read(tag([0x83, 1, 2])), { track: { codec: 'pcmu', channels: 2 } });
  t.equal(reader.read(tag([0xaf, 1, 9, 9])), undefined, 'raw AAC before any sequence header');
  t.equal(reader.read(tag([0xaf])), undefined, 'too short');
  t.equal(reader.read(tag([0x2f, 1, 2])), undefined, 'MP3 is not read');
  t.throws(() => reader.read(tag([0xaf, 0, 0x16, 0x90])), ProtocolError, 'a bad AudioSpecificConfig is a PROTOCOL error');
  t.throws(() => flvAacSequenceHeader({ kind: 'audio', codec: 'pcma', clockRate: 8000, sampleRate: 8000, channels: 1 }, 0), /without conversion/);
});
