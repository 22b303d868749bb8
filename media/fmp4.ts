import { toAvcc } from './h264/annexb.ts';
import { audioTrak } from './fmp4-audio.ts';
import { box, fullBox, u32, UNITY_MATRIX } from './mp4-boxes.ts';
import type { AudioTrack, H264Track } from './types.ts';

/**
 * Fragmented MP4 (ISO/IEC 14496-12, CMAF) for one H.264 track and optionally one audio track: an init segment
 * (ftyp + moov) and fragments (moof + mdat), one track per fragment. Used for LL-HLS parts and segments, and usable as
 * is by a recorder.
 */

/** Ticks per second of the track's media timeline (the MPEG 90 kHz clock, so that milliseconds map exactly). */
export const FMP4_TIMESCALE = 90_000;
const TRACK_ID = 1;

export { box };
/** The audio track's ID, beside the video track's. */
export const FMP4_AUDIO_TRACK_ID = 2;

/** One access unit as a fragment carries it. Times are in FMP4_TIMESCALE ticks. */
export interface Fmp4Sample {
  readonly nalus: readonly Buffer[];
  readonly dts: number;
  /** Presentation minus decode time (B-frames), ticks. */
  readonly compositionOffset: number;
  /** Ticks until the next sample's decode time. */
  readonly duration: number;
  readonly keyframe: boolean;
}


/**
 * The init segment: ftyp and a moov describing the video track (and the audio track when given: AAC or Opus), with
 * mvex announcing that samples come in fragments. Without audio it is what it was before audio existed.
 */
export function initSegment(track: H264Track, audio?: AudioTrack): Buffer {
  const ftyp = box('ftyp', Buffer.from('iso6', 'latin1'), u32(0), Buffer.from('iso6cmfcmp41avc1', 'latin1'));
  const mvhd = fullBox('mvhd', 0, 0, u32(0, 0, FMP4_TIMESCALE, 0), u32(0x00010000), Buffer.from([1, 0, 0, 0]), u32(0, 0),
    UNITY_MATRIX, u32(0, 0, 0, 0, 0, 0), u32((audio ? FMP4_AUDIO_TRACK_ID : TRACK_ID) + 1));
  const tkhd = fullBox('tkhd', 0, 0x3, u32(0, 0, TRACK_ID, 0, 0), u32(0, 0), u32(0, 0), UNITY_MATRIX,
    u32(track.width * 0x10000, track.height * 0x10000));
  const mdhd = fullBox('mdhd', 0, 0, u32(0, 0, FMP4_TIMESCALE, 0), Buffer.from([0x55, 0xc4, 0, 0])); // language 'und'
  const hdlr = fullBox('hdlr', 0, 0, u32(0), Buffer.from('vide', 'latin1'), u32(0, 0, 0), Buffer.from('Video\0', 'latin1'));
  const dinf = box('dinf', fullBox('dref', 0, 0, u32(1), fullBox('url ', 0, 1)));
  const stbl = box('stbl',
    fullBox('stsd', 0, 0, u32(1), avc1(track)),
    fullBox('stts', 0, 0, u32(0)),
    fullBox('stsc', 0, 0, u32(0)),
    fullBox('stsz', 0, 0, u32(0, 0)),
    fullBox('stco', 0, 0, u32(0)));
  const minf = box('minf', fullBox('vmhd', 0, 1, u32(0, 0)), dinf, stbl);
  const trak = box('trak', tkhd, box('mdia', mdhd, hdlr, minf));
  const trex = fullBox('trex', 0, 0, u32(TRACK_ID, 1, 0, 0, 0));
  if (!audio) return Buffer.concat([ftyp, box('moov', mvhd, trak, box('mvex', trex))]);
  const audioTrex = fullBox('trex', 0, 0, u32(FMP4_AUDIO_TRACK_ID, 1, 0, 0, 0));
  return Buffer.concat([ftyp, box('moov', mvhd, trak, audioTrak(audio, FMP4_AUDIO_TRACK_ID, dinf), box('mvex', trex, audioTrex))]);
}

/** The visual sample entry with the track's avcC. */
function avc1(track: H264Track): Buffer {
  const entry = Buffer.alloc(78);
  entry.writeUInt16BE(1, 6); // data_reference_index
  entry.writeUInt16BE(track.width, 24);
  entry.writeUInt16BE(track.height, 26);
  entry.writeUInt32BE(0x00480000, 28); // 72 dpi
  entry.writeUInt32BE(0x00480000, 32);
  entry.writeUInt16BE(1, 40); // frame_count
  entry.writeUInt16BE(0x0018, 74); // depth
  entry.writeInt16BE(-1, 76); // pre_defined
  return box('avc1', entry, box('avcC', track.avcC));
}

const SAMPLE_FLAGS_SYNC = 0x02000000; // depends on no other sample
const SAMPLE_FLAGS_NON_SYNC = 0x01010000; // depends on others, is not a sync sample

/**
 * One fragment: a moof (mfhd with `sequence`, traf with tfdt and a trun giving each sample's duration, size, flags
 * and composition offset) and an mdat holding the samples as 4-byte length-prefixed NAL units.
 */
export function fragment(sequence: number, samples: readonly Fmp4Sample[]): Buffer {
  if (samples.length === 0) throw new Error('a fragment needs at least one sample');
  const data = samples.map((sample) => toAvcc(sample.nalus));
  const trunFlags = 0x000001 | 0x000100 | 0x000200 | 0x000400 | 0x000800; // offset, duration, size, flags, cts
  const entries = Buffer.alloc(samples.length * 16);
  samples.forEach((sample, i) => {
    entries.writeUInt32BE(Math.max(0, Math.round(sample.duration)), i * 16);
    entries.writeUInt32BE(data[i]!.length, i * 16 + 4);
    entries.writeUInt32BE(sample.keyframe ? SAMPLE_FLAGS_SYNC : SAMPLE_FLAGS_NON_SYNC, i * 16 + 8);
    entries.writeInt32BE(Math.round(sample.compositionOffset), i * 16 + 12);
  });
  const baseTime = Buffer.alloc(8);
  baseTime.writeBigUInt64BE(BigInt(Math.max(0, Math.round(samples[0]!.dts))));
  const build = (dataOffset: number): Buffer =>
    box('moof',
      fullBox('mfhd', 0, 0, u32(sequence)),
      box('traf',
        fullBox('tfhd', 0, 0x020000, u32(TRACK_ID)), // default-base-is-moof
        fullBox('tfdt', 1, 0, baseTime),
        fullBox('trun', 1, trunFlags, u32(samples.length, dataOffset), entries)));
  const moofSize = build(0).length;
  const mdat = box('mdat', ...data);
  return Buffer.concat([build(moofSize + 8), mdat]);
}

/** One audio frame as a fragment carries it; times in the audio track's timescale (its sampling rate). */
export interface Fmp4AudioSample {
  readonly data: Buffer;
  readonly dts: number;
  /** Ticks until the next frame: 1024 for AAC, 960 for 20 ms of Opus at 48 kHz. */
  readonly duration: number;
}

/**
 * One audio fragment: a moof for the audio track (its own `sequence`, tfdt from the first frame's time in the track's
 * timescale, a trun of durations and sizes; every audio frame is a sync sample) and an mdat of the raw frames.
 */
export function audioFragment(sequence: number, samples: readonly Fmp4AudioSample[]): Buffer {
  if (samples.length === 0) throw new Error('a fragment needs at least one sample');
  const entries = Buffer.alloc(samples.length * 8);
  samples.forEach((sample, i) => {
    entries.writeUInt32BE(Math.max(0, Math.round(sample.duration)), i * 8);
    entries.writeUInt32BE(sample.data.length, i * 8 + 4);
  });
  const baseTime = Buffer.alloc(8);
  baseTime.writeBigUInt64BE(BigInt(Math.max(0, Math.round(samples[0]!.dts))));
  const build = (dataOffset: number): Buffer =>
    box('moof',
      fullBox('mfhd', 0, 0, u32(sequence)),
      box('traf',
        fullBox('tfhd', 0, 0x020000, u32(FMP4_AUDIO_TRACK_ID)),
        fullBox('tfdt', 1, 0, baseTime),
        fullBox('trun', 0, 0x000001 | 0x000100 | 0x000200, u32(samples.length, dataOffset), entries)));
  const moofSize = build(0).length;
  return Buffer.concat([build(moofSize + 8), box('mdat', ...samples.map((sample) => sample.data))]);
}
