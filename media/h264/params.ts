import type { H264Track, H264Unit } from '../types.ts';

/** Reads unsigned and signed Exp-Golomb codes from an RBSP (emulation prevention bytes removed). */
class BitReader {
  private bit = 0;
  constructor(private readonly data: Buffer) {}

  u(count: number): number {
    let value = 0;
    for (let i = 0; i < count; i++) {
      const byte = this.data[this.bit >> 3];
      if (byte === undefined) throw new Error('SPS is truncated');
      value = value * 2 + ((byte >> (7 - (this.bit & 7))) & 1);
      this.bit++;
    }
    return value;
  }

  ue(): number {
    let zeros = 0;
    while (this.u(1) === 0) if (++zeros > 31) throw new Error('bad Exp-Golomb code in SPS');
    return 2 ** zeros - 1 + this.u(zeros);
  }

  se(): number {
    const value = this.ue();
    return value % 2 === 1 ? (value + 1) / 2 : -value / 2;
  }
}

/** Removes H.264 emulation prevention bytes (00 00 03 -> 00 00). */
export function unescapeRbsp(nal: Buffer): Buffer {
  const out: number[] = [];
  let zeros = 0;
  for (const byte of nal) {
    if (zeros >= 2 && byte === 3) {
      zeros = 0;
      continue;
    }
    zeros = byte === 0 ? zeros + 1 : 0;
    out.push(byte);
  }
  return Buffer.from(out);
}

const HIGH_PROFILES = new Set([100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135]);

/** Picture size from a sequence parameter set (ITU-T H.264 7.3.2.1.1), cropping applied. */
export function spsPictureSize(sps: Buffer): { width: number; height: number } {
  const reader = new BitReader(unescapeRbsp(sps.subarray(1)));
  const profile = reader.u(8);
  reader.u(16); // constraint flags, level
  reader.ue(); // seq_parameter_set_id
  let chromaFormat = 1;
  if (HIGH_PROFILES.has(profile)) {
    chromaFormat = reader.ue();
    if (chromaFormat === 3) reader.u(1);
    reader.ue(); // bit depth luma
    reader.ue(); // bit depth chroma
    reader.u(1);
    if (reader.u(1)) {
      for (let i = 0; i < (chromaFormat === 3 ? 12 : 8); i++) {
        if (!reader.u(1)) continue;
        let last = 8;
        let next = 8;
        for (let j = 0; j < (i < 6 ? 16 : 64) && next !== 0; j++) {
          next = (last + reader.se() + 256) % 256;
          last = next === 0 ? last : next;
        }
      }
    }
  }
  reader.ue(); // log2_max_frame_num
  const pocType = reader.ue();
  if (pocType === 0) reader.ue();
  else if (pocType === 1) {
    reader.u(1);
    reader.se();
    reader.se();
    const cycle = reader.ue();
    for (let i = 0; i < cycle; i++) reader.se();
  }
  reader.ue(); // max_num_ref_frames
  reader.u(1);
  const widthMbs = reader.ue() + 1;
  const heightUnits = reader.ue() + 1;
  const frameMbsOnly = reader.u(1);
  if (!frameMbsOnly) reader.u(1);
  reader.u(1); // direct_8x8_inference
  let crop = { left: 0, right: 0, top: 0, bottom: 0 };
  if (reader.u(1)) crop = { left: reader.ue(), right: reader.ue(), top: reader.ue(), bottom: reader.ue() };
  const cropX = chromaFormat === 0 || chromaFormat === 3 ? 1 : 2;
  const cropY = (chromaFormat === 1 ? 2 : 1) * (2 - frameMbsOnly);
  return {
    width: widthMbs * 16 - cropX * (crop.left + crop.right),
    height: heightUnits * 16 * (2 - frameMbsOnly) - cropY * (crop.top + crop.bottom),
  };
}

/** An AVCDecoderConfigurationRecord (ISO/IEC 14496-15 5.2.4.1) with one SPS and one PPS, 4-byte lengths. */
export function buildAvcC(sps: Buffer, pps: Buffer): Buffer {
  const head = Buffer.from([1, sps[1] ?? 0, sps[2] ?? 0, sps[3] ?? 0, 0xff, 0xe1, sps.length >> 8, sps.length & 0xff]);
  return Buffer.concat([head, sps, Buffer.from([1, pps.length >> 8, pps.length & 0xff]), pps]);
}

/** A unit's NAL units with SPS and PPS in band in front of a keyframe, for formats that carry them there (RTP, Annex B). */
export function withParameterSets(unit: H264Unit): readonly Buffer[] {
  return unit.keyframe ? [unit.track.sps, unit.track.pps, ...unit.data] : unit.data;
}

/**
 * Builds the track description of a stream run from its SPS and PPS; throws on an SPS it cannot read, unless
 * `unreadSize` is given: then that is the picture size (a decoder may still read what this parser cannot).
 */
export function h264Track(sps: Buffer, pps: Buffer, unreadSize?: { width: number; height: number }): H264Track {
  const { width, height } = unreadSize ? pictureSizeOr(sps, unreadSize) : spsPictureSize(sps);
  const hex = (byte: number | undefined): string => (byte ?? 0).toString(16).padStart(2, '0');
  return {
    kind: 'video',
    codec: 'h264',
    clockRate: 90_000,
    sps,
    pps,
    width,
    height,
    codecString: `avc1.${hex(sps[1])}${hex(sps[2])}${hex(sps[3])}`,
    avcC: buildAvcC(sps, pps),
  };
}

function pictureSizeOr(sps: Buffer, fallback: { width: number; height: number }): { width: number; height: number } {
  try {
    return spsPictureSize(sps);
  } catch {
    return fallback;
  }
}

/** Reads SPS and PPS out of an avcC record (the first of each), as FLV sequence headers and MP4 carry them. */
export function parseAvcC(record: Buffer): { sps: Buffer; pps: Buffer } {
  if (record.length < 7 || record[0] !== 1) throw new Error('not an avcC record');
  let offset = 5;
  const spsCount = record[offset++]! & 0x1f;
  let sps: Buffer | undefined;
  for (let i = 0; i < spsCount; i++) {
    const length = record.readUInt16BE(offset);
    sps ??= record.subarray(offset + 2, offset + 2 + length);
    offset += 2 + length;
  }
  const ppsCount = record[offset++];
  let pps: Buffer | undefined;
  for (let i = 0; i < (ppsCount ?? 0); i++) {
    const length = record.readUInt16BE(offset);
    pps ??= record.subarray(offset + 2, offset + 2 + length);
    offset += 2 + length;
  }
  if (!sps || !pps || offset > record.length) throw new Error('avcC record without SPS and PPS');
  return { sps: Buffer.from(sps), pps: Buffer.from(pps) };
}
