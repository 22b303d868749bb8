import t from 'tap';
import { contiguousAudioRuns, crc32Mpeg, MpegTsMuxer } from '../../media/mpegts.ts';
import type { AudioTrack, FrameUnit } from '../../media/types.ts';
import { decodeAudio, makeAvUnits } from '../helpers/audio.ts';

/** The PTS (90 kHz) in a PES header. */
function readPts(pes: Buffer): number {
  return (((pes[9]! >> 1) & 0x07) * 2 ** 30) + ((pes.readUInt16BE(10) >> 1) * 2 ** 15) + (pes.readUInt16BE(12) >> 1);
}

t.test('H.264 and AAC in one TS: ffmpeg decodes the tone with the right rate and length, audio and video start together', async (t) => {
  const { video, audio } = await makeAvUnits(2);
  const track = audio[0]!.track as AudioTrack;
  const muxer = new MpegTsMuxer(track);
  const runs = contiguousAudioRuns(audio, 5);
  t.ok(runs.length >= Math.ceil(audio.length / 5) && runs.every((run) => run.length <= 5));
  const items = [
    ...video.map((unit) => ({ time: unit.dts, bytes: () => muxer.accessUnit(unit, unit.pts + 100, unit.dts + 100) })),
    ...runs.map((run) => ({ time: run[0]!.pts, bytes: () => muxer.audioFrames(run, run[0]!.pts + 100) })),
  ].sort((a, b) => a.time - b.time);
  const ts = Buffer.concat([muxer.tables(), ...items.map((item) => item.bytes())]);
  t.equal(ts.length % 188, 0);
  const pmt = ts.subarray(188, 376);
  const sectionLength = ((pmt[6]! & 0x0f) << 8) | pmt[7]!;
  t.equal(crc32Mpeg(pmt.subarray(5, 8 + sectionLength)), 0, 'PMT CRC holds');
  t.ok(pmt.subarray(5, 8 + sectionLength).includes(Buffer.from([0x0f, 0xe1, 0x01])), 'PMT lists AAC (0x0F) on PID 0x101');
  const audioStarts: number[] = [];
  const counters: number[] = [];
  for (let at = 0; at < ts.length; at += 188) {
    const packet = ts.subarray(at, at + 188);
    if ((((packet[1]! & 0x1f) << 8) | packet[2]!) !== 0x101) continue;
    counters.push(packet[3]! & 0x0f);
    if (!(packet[1]! & 0x40)) continue;
    const payload = packet.subarray(packet[3]! & 0x20 ? 5 + packet[4]! : 4);
    t.same([...payload.subarray(0, 4)], [0, 0, 1, 0xc0], 'an audio PES');
    audioStarts.push(readPts(payload));
  }
  t.ok(counters.every((counter, i) => counter === i % 16), 'audio continuity counters run on');
  t.same(audioStarts, runs.map((run) => Math.round((run[0]!.pts + 100) * 90)), 'each PES has its first frame\'s exact PTS');
  const decoded = await decodeAudio(ts, 'av.ts');
  t.match(decoded, { codec: 'aac', sampleRate: 48000, channels: 1 });
  t.ok(Math.abs(decoded.duration - (audio.length * 1024) / 48000) <= 1024 / 48000 + 0.03, `duration ${decoded.duration} for ${audio.length} frames`);
  t.ok(decoded.toneDb > -40, `tone at ${decoded.toneDb} dBFS`);
  t.ok(Math.abs(decoded.startTime - decoded.videoStartTime!) <= 0.045, `audio starts at ${decoded.startTime}, video at ${decoded.videoStartTime}`);
});

t.test('runs break at gaps and track changes; audio the TS cannot carry is refused', async (t) => {
  const track: AudioTrack = { kind: 'audio', codec: 'aac', clockRate: 48000, sampleRate: 48000, channels: 1, config: Buffer.from('1188', 'hex') };
  const at = (pts: number, unitTrack = track): FrameUnit => ({ track: unitTrack, data: Buffer.alloc(10), pts, dts: pts, keyframe: true });
  const step = 1024 / 48;
  const other = { ...track };
  const units = [at(0), at(step), at(2 * step), at(200), at(200 + step), at(200 + 2 * step, other)];
  t.same(contiguousAudioRuns(units, 8).map((run) => run.length), [3, 2, 1]);
  t.same(contiguousAudioRuns(units.slice(0, 3), 2).map((run) => run.length), [2, 1]);
  t.throws(() => new MpegTsMuxer({ kind: 'audio', codec: 'pcma', clockRate: 8000, sampleRate: 8000, channels: 1 }), { name: 'ProtocolError', message: /without conversion/ });
  t.throws(() => new MpegTsMuxer({ ...track, config: Buffer.from('178001f410', 'hex') }), /no index/);
  t.throws(() => new MpegTsMuxer().audioFrames([at(0)], 0), /without an audio track/);
  t.equal(new MpegTsMuxer(track).audioFrames([], 0).length, 0);
  const big = new MpegTsMuxer(track).audioFrames(Array.from({ length: 20 }, (_, i) => ({ ...at(i * step), data: Buffer.alloc(6000) })), 0);
  t.equal(big.length % 188, 0, 'a PES over 64 KiB is written with length 0');
});
