import t from 'tap';
import { audioFragment, fragment, initSegment } from '../../media/fmp4.ts';
import type { AudioTrack, FrameUnit, H264Track, H264Unit } from '../../media/types.ts';
import { h264Track } from '../../media/h264/params.ts';
import { decodeAudio, makeAvUnits, makeOpusUnits } from '../helpers/audio.ts';

const clip = makeAvUnits(2);

/** An fMP4 file: init, then per second one video fragment (its GOP) and one audio fragment, as a recorder writes them. */
function fmp4File(video: readonly H264Unit[], audio: readonly FrameUnit[], frameTicks: number): Buffer {
  const audioTrack = audio[0]!.track as AudioTrack;
  const parts = [initSegment(video[0]!.track as H264Track, audioTrack)];
  let sequence = 1;
  for (let second = 0; second * 1000 <= video.at(-1)!.dts; second++) {
    const inSecond = <T extends { dts: number }>(units: readonly T[]) => units.filter((unit) => unit.dts >= second * 1000 && unit.dts < (second + 1) * 1000);
    const frames = inSecond(video);
    if (frames.length > 0) {
      parts.push(fragment(sequence++, frames.map((unit) => ({ nalus: unit.data, dts: unit.dts * 90, compositionOffset: (unit.pts - unit.dts) * 90, duration: 9000, keyframe: unit.keyframe }))));
    }
    const sounds = inSecond(audio);
    if (sounds.length > 0) {
      parts.push(audioFragment(sequence++, sounds.map((unit) => ({ data: unit.data, dts: Math.round((unit.dts * audioTrack.sampleRate) / 1000), duration: frameTicks }))));
    }
  }
  return Buffer.concat(parts);
}

t.test('fMP4 with H.264 and AAC: ffmpeg decodes the tone at the right rate and length, audio and video start together', async (t) => {
  const { video, audio } = await clip;
  const file = fmp4File(video, audio, 1024);
  const init = initSegment(video[0]!.track as H264Track, audio[0]!.track as AudioTrack);
  t.ok(init.includes(Buffer.from('mp4a')) && init.includes(Buffer.from('esds')) && init.includes((audio[0]!.track as AudioTrack).config!));
  t.equal(init.indexOf('trex'), init.lastIndexOf('trex') - 32, 'two trex, one per track');
  const decoded = await decodeAudio(file, 'av.mp4');
  t.match(decoded, { codec: 'aac', sampleRate: 48000, channels: 1 });
  t.ok(Math.abs(decoded.duration - (audio.length * 1024) / 48000) <= 1024 / 48000 + 0.03, `duration ${decoded.duration} for ${audio.length} frames`);
  t.ok(decoded.toneDb > -40, `tone at ${decoded.toneDb} dBFS`);
  t.ok(Math.abs(decoded.startTime - decoded.videoStartTime!) <= 0.045, `audio starts at ${decoded.startTime}, video at ${decoded.videoStartTime}`);
});

t.test('fMP4 with H.264 and Opus (Opus sample entry with dOps) decodes to the tone', async (t) => {
  const [{ video }, opus] = await Promise.all([clip, makeOpusUnits(1)]);
  const decoded = await decodeAudio(fmp4File(video, opus, 960), 'opus.mp4');
  t.match(decoded, { codec: 'opus', sampleRate: 48000, channels: 1 });
  t.ok(Math.abs(decoded.duration - opus.length * 0.02) <= 0.02 + 0.03, `duration ${decoded.duration} for ${opus.length} packets`);
  t.ok(decoded.toneDb > -40, `tone at ${decoded.toneDb} dBFS`);
});

t.test('audio fMP4 cannot carry, and empty fragments, are refused', async (t) => {
  // x264's SPS and PPS for 640x360, as in the MPEG-TS and fMP4 video tests.
  const track = h264Track(Buffer.from('67f40016919b281405ff138088000003000800000300a078b16cb0', 'hex'), Buffer.from('68ebe3c44844', 'hex'));
  t.throws(() => initSegment(track, { kind: 'audio', codec: 'pcmu', clockRate: 8000, sampleRate: 8000, channels: 1 }), { name: 'ProtocolError', message: /without conversion/ });
  t.throws(() => initSegment(track, { kind: 'audio', codec: 'aac', clockRate: 8000, sampleRate: 8000, channels: 1 }), /without its AudioSpecificConfig/);
  t.throws(() => audioFragment(1, []), /at least one sample/);
});
