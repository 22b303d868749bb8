import { adtsHeader } from './aac/adts.ts';
import { parseAudioSpecificConfig, type AacConfig } from './aac/config.ts';
import { ProtocolError } from './errors.ts';
import { toAnnexB } from './h264/annexb.ts';
import { withParameterSets } from './h264/params.ts';
import type { AudioTrack, FrameUnit, H264Unit } from './types.ts';

/** MPEG-TS (ISO/IEC 13818-1) for one H.264 video elementary stream and optionally one AAC stream, as HLS carries them. */

const PACKET_SIZE = 188;
const PAT_PID = 0x0000;
const PMT_PID = 0x1000;
/** The video elementary stream's PID; the PCR rides on it too. */
const VIDEO_PID = 0x0100;
const STREAM_TYPE_H264 = 0x1b;
const PES_STREAM_ID_VIDEO = 0xe0;
/** The AAC elementary stream's PID, beside the video. */
const AUDIO_PID = 0x0101;
/** ISO/IEC 13818-7 audio with ADTS transport syntax, what HLS players expect for AAC. */
const STREAM_TYPE_AAC_ADTS = 0x0f;
const PES_STREAM_ID_AUDIO = 0xc0;
/** MPEG timestamps are 33-bit counts of a 90 kHz clock. */
const TIMESTAMP_WRAP = 2 ** 33;

/** An access unit delimiter (primary_pic_type 7: any slice type), which HLS asks for at the start of each access unit. */
const AUD = Buffer.from([0, 0, 0, 1, 0x09, 0xf0]);

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let crc = i << 24;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x80000000 ? (crc << 1) ^ 0x04c11db7 : crc << 1;
    table[i] = crc >>> 0;
  }
  return table;
})();

/** The CRC-32/MPEG-2 that ends every PSI section. */
export function crc32Mpeg(data: Buffer): number {
  let crc = 0xffffffff;
  for (const byte of data) crc = ((crc << 8) ^ CRC_TABLE[((crc >>> 24) ^ byte) & 0xff]!) >>> 0;
  return crc >>> 0;
}

/** One access unit as Annex B (MPEG-TS carries H.264 so): an AUD, SPS and PPS before a keyframe, then each NAL unit. */
export function annexB(unit: H264Unit): Buffer {
  return Buffer.concat([AUD, toAnnexB(withParameterSets(unit))]);
}

/** A millisecond time as a 33-bit 90 kHz timestamp. */
export function toMpegTime(ms: number): number {
  return ((Math.round(ms * 90) % TIMESTAMP_WRAP) + TIMESTAMP_WRAP) % TIMESTAMP_WRAP;
}

/**
 * Writes TS packets for one program with one H.264 stream, and an AAC stream when the muxer is made with an audio
 * track. Continuity counters live in the muxer, so one muxer per HLS stream keeps them running across segments, as a
 * player that concatenates segments expects. Without audio the output is what it was before audio existed.
 */
export class MpegTsMuxer {
  private readonly continuity = new Map<number, number>();
  private readonly aac: AacConfig | undefined;

  /** `audio`, when given, must be AAC with its AudioSpecificConfig (MPEG-TS carries AAC as ADTS frames). */
  constructor(readonly audio?: AudioTrack) {
    if (!audio) return;
    if (audio.codec !== 'aac' || !audio.config) throw new ProtocolError(`MPEG-TS: cannot carry ${audio.codec} audio without conversion to AAC`);
    this.aac = parseAudioSpecificConfig(audio.config);
    adtsHeader(this.aac, 0); // refuses configurations ADTS cannot describe, here rather than at the first frame
  }

  /** The PAT and the PMT, which every segment starts with so that it decodes on its own. */
  tables(): Buffer {
    return Buffer.concat([this.section(PAT_PID, patSection()), this.section(PMT_PID, pmtSection(this.aac !== undefined))]);
  }

  /**
   * Consecutive AAC frames as one PES packet of ADTS frames, at `ptsMs` (the first frame's time on the stream's
   * timeline). A decoder times each following frame one frame duration after the previous, so pass only frames that
   * follow each other without a gap (see `contiguousAudioRuns`).
   */
  audioFrames(units: readonly FrameUnit[], ptsMs: number): Buffer {
    if (!this.aac) throw new Error('this muxer was made without an audio track');
    if (units.length === 0) return Buffer.alloc(0);
    const frames = Buffer.concat(units.flatMap((unit) => [adtsHeader(this.aac!, unit.data.length), unit.data]));
    const header = pesHeader(toMpegTime(ptsMs), toMpegTime(ptsMs), PES_STREAM_ID_AUDIO);
    const pesLength = header.length - 6 + frames.length;
    if (pesLength <= 0xffff) header.writeUInt16BE(pesLength, 4); // audio PES packets say their length when it fits
    return this.packetize(AUDIO_PID, Buffer.concat([header, frames]), {});
  }

  /**
   * One access unit as a PES packet in TS packets; `ptsMs`/`dtsMs` are on the stream's timeline. A keyframe's first
   * packet is a random access point and carries the PCR (set to the DTS, so that decoders never wait).
   */
  accessUnit(unit: H264Unit, ptsMs: number, dtsMs: number): Buffer {
    const pts = toMpegTime(ptsMs);
    const dts = toMpegTime(dtsMs);
    const payload = Buffer.concat([pesHeader(pts, dts), annexB(unit)]);
    return this.packetize(VIDEO_PID, payload, { pcr: dts, randomAccess: unit.keyframe });
  }

  private section(pid: number, section: Buffer): Buffer {
    // A pointer field of 0 precedes a section that starts in this packet.
    return this.packetize(pid, Buffer.concat([Buffer.from([0]), section]), {});
  }

  private packetize(pid: number, payload: Buffer, first: { pcr?: number; randomAccess?: boolean }): Buffer {
    const packets: Buffer[] = [];
    let offset = 0;
    while (offset < payload.length || packets.length === 0) {
      const packet = Buffer.alloc(PACKET_SIZE, 0xff);
      const isFirst = packets.length === 0;
      const counter = this.continuity.get(pid) ?? 0;
      this.continuity.set(pid, (counter + 1) & 0x0f);
      packet[0] = 0x47;
      packet[1] = (isFirst ? 0x40 : 0) | ((pid >> 8) & 0x1f);
      packet[2] = pid & 0xff;
      let adaptation: Buffer | undefined;
      if (isFirst && first.pcr !== undefined) adaptation = pcrField(first.pcr, first.randomAccess ?? false);
      const room = PACKET_SIZE - 4 - (adaptation ? adaptation.length : 0);
      const remaining = payload.length - offset;
      if (remaining < room && pid !== PAT_PID && pid !== PMT_PID) {
        // The last packet of a PES is padded with adaptation-field stuffing; PSI packets are padded with 0xff after the section.
        adaptation = stuffedAdaptation(adaptation, room - remaining);
      }
      const headerEnd = 4 + (adaptation ? adaptation.length : 0);
      packet[3] = (adaptation ? 0x30 : 0x10) | counter;
      if (adaptation) adaptation.copy(packet, 4);
      const take = Math.min(PACKET_SIZE - headerEnd, remaining);
      payload.copy(packet, headerEnd, offset, offset + take);
      offset += take;
      packets.push(packet);
    }
    return Buffer.concat(packets);
  }
}

/** An adaptation field (with its length byte) carrying a PCR and the random access indicator. */
function pcrField(pcr: number, randomAccess: boolean): Buffer {
  const field = Buffer.alloc(8);
  field[0] = 7;
  field[1] = 0x10 | (randomAccess ? 0x40 : 0);
  // program_clock_reference_base (33 bits), 6 reserved bits, extension 0.
  field.writeUInt32BE(Math.floor(pcr / 2), 2);
  field[6] = ((pcr & 1) << 7) | 0x7e;
  field[7] = 0;
  return field;
}

/** Grows an adaptation field (or makes one) by `extra` bytes of stuffing. */
function stuffedAdaptation(existing: Buffer | undefined, extra: number): Buffer {
  if (existing) return Buffer.concat([Buffer.from([existing[0]! + extra]), existing.subarray(1), Buffer.alloc(extra, 0xff)]);
  if (extra === 1) return Buffer.from([0]);
  return Buffer.concat([Buffer.from([extra - 1, 0x00]), Buffer.alloc(extra - 2, 0xff)]);
}

/** A PES header with PTS, and DTS when it differs (B-frames); the length is 0, as video PES may be unbounded. */
function pesHeader(pts: number, dts: number, streamId = PES_STREAM_ID_VIDEO): Buffer {
  const withDts = pts !== dts;
  const header = Buffer.alloc(withDts ? 19 : 14);
  header.writeUIntBE(0x000001, 0, 3);
  header[3] = streamId;
  header.writeUInt16BE(0, 4);
  header[6] = 0x80;
  header[7] = withDts ? 0xc0 : 0x80;
  header[8] = withDts ? 10 : 5;
  writeTimestamp(header, 9, withDts ? 0x3 : 0x2, pts);
  if (withDts) writeTimestamp(header, 14, 0x1, dts);
  return header;
}

/** The 5-byte PTS/DTS coding: a 4-bit prefix, then 3+15+15 bits each followed by a marker bit. */
function writeTimestamp(buffer: Buffer, offset: number, prefix: number, time: number): void {
  const high = Math.floor(time / 2 ** 30) & 0x07;
  const middle = Math.floor(time / 2 ** 15) & 0x7fff;
  const low = time & 0x7fff;
  buffer[offset] = (prefix << 4) | (high << 1) | 1;
  buffer.writeUInt16BE((middle << 1) | 1, offset + 1);
  buffer.writeUInt16BE((low << 1) | 1, offset + 3);
}

/** A PSI section with its table header and CRC; `body` follows the section_length field's 5 fixed bytes. */
function psiSection(tableId: number, tableIdExtension: number, body: Buffer): Buffer {
  const length = 5 + body.length + 4;
  const head = Buffer.from([tableId, 0xb0 | ((length >> 8) & 0x0f), length & 0xff, tableIdExtension >> 8, tableIdExtension & 0xff, 0xc1, 0, 0]);
  const section = Buffer.concat([head, body]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32Mpeg(section));
  return Buffer.concat([section, crc]);
}

/** The PAT: program 1 at the PMT's PID. */
function patSection(): Buffer {
  return psiSection(0x00, 1, Buffer.from([0x00, 0x01, 0xe0 | (PMT_PID >> 8), PMT_PID & 0xff]));
}

/** The PMT: PCR on the video PID, one H.264 stream, and the AAC stream when there is one. */
function pmtSection(withAudio: boolean): Buffer {
  const audio = withAudio ? [STREAM_TYPE_AAC_ADTS, 0xe0 | (AUDIO_PID >> 8), AUDIO_PID & 0xff, 0xf0, 0x00] : [];
  return psiSection(0x02, 1, Buffer.from([
    0xe0 | (VIDEO_PID >> 8), VIDEO_PID & 0xff, 0xf0, 0x00,
    STREAM_TYPE_H264, 0xe0 | (VIDEO_PID >> 8), VIDEO_PID & 0xff, 0xf0, 0x00,
    ...audio,
  ]));
}

/**
 * Splits audio units into runs of at most `maxFrames` whose times follow one another by one frame duration (within
 * 1 ms): each run can share one PES packet with the first frame's PTS and every frame keeps its exact time.
 */
export function contiguousAudioRuns(units: readonly FrameUnit[], maxFrames: number): FrameUnit[][] {
  const runs: FrameUnit[][] = [];
  let run: FrameUnit[] = [];
  for (const unit of units) {
    const previous = run[run.length - 1];
    const track = unit.track as AudioTrack;
    const frameMs = (1000 * (track.codec === 'aac' && track.config ? parseFrameLength(track.config) : 1024)) / track.sampleRate;
    if (previous && (run.length >= maxFrames || Math.abs(unit.pts - previous.pts - frameMs) > 1 || previous.track !== unit.track)) {
      runs.push(run);
      run = [];
    }
    run.push(unit);
  }
  if (run.length > 0) runs.push(run);
  return runs;
}

const frameLengths = new WeakMap<Buffer, number>();

function parseFrameLength(config: Buffer): number {
  let length = frameLengths.get(config);
  if (length === undefined) {
    length = parseAudioSpecificConfig(config).frameLength;
    frameLengths.set(config, length);
  }
  return length;
}
