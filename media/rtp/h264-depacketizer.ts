import { ProtocolError } from '../errors.ts';
import type { RtpPacket } from './rtp.ts';
import { nalType, NalType } from '../h264/units.ts';

/**
 * A whole H.264 access unit as its NAL units (no start codes), with the RTP timestamp it carried; a keyframe's list
 * holds its SPS and PPS.
 */
export interface H264AccessUnit {
  readonly data: readonly Buffer[];
  readonly keyframe: boolean;
  readonly rtpTimestamp: number;
}

/** Bytes a start code would take: the unit's size is bounded as if written as Annex B, as cameras count it. */
const START_CODE_BYTES = 4;
/** RTP payload structures in the NAL unit type field (RFC 6184 5.2). */
const NAL_STAP_A = 24;
const NAL_FU_A = 28;
/** More NAL units than any sane access unit holds; bounds the bookkeeping as maxFrameBytes bounds the bytes. */
const MAX_NALS_PER_UNIT = 1024;

/** Decodes `sprop-parameter-sets` (base64 NAL units, comma-separated) into SPS and PPS. */
export function parseSpropParameterSets(text: string | undefined): { sps?: Buffer; pps?: Buffer } {
  const sets: { sps?: Buffer; pps?: Buffer } = {};
  for (const part of (text ?? '').split(',').slice(0, 8)) {
    const nal = Buffer.from(part.trim(), 'base64');
    const type = nalType(nal);
    if (type === NalType.sps) sets.sps = nal;
    if (type === NalType.pps) sets.pps = nal;
  }
  return sets;
}

/**
 * Rebuilds H.264 access units from RTP payloads (RFC 6184 single NAL unit, STAP-A and FU-A packets).
 * An access unit ends at the marker bit or when the timestamp changes. A unit damaged by packet loss is dropped, and so
 * is every unit after it until the next keyframe (they reference what was lost, and would show as smears to viewers
 * of a `VideoCodec copy` stream); the stream goes on. Keyframes always carry SPS and PPS, from the stream itself or
 * else from the SDP.
 */
export class H264Depacketizer {
  private nals: Buffer[] = [];
  private unitBytes = 0;
  private unitTimestamp: number | undefined;
  private damaged = false;
  private fragments: Buffer[] | undefined;
  private fragmentBytes = 0;
  private sps: Buffer | undefined;
  private pps: Buffer | undefined;
  /** Access units dropped because packets were lost or malformed. */
  droppedUnits = 0;
  /** Intact access units dropped while waiting for a keyframe after a loss. */
  skippedUnits = 0;
  private waitingForKeyframe = false;

  constructor(
    private readonly maxFrameBytes: number,
    parameterSets: { sps?: Buffer; pps?: Buffer } = {},
  ) {
    this.sps = parameterSets.sps;
    this.pps = parameterSets.pps;
  }

  /** Bytes held for the access unit in progress. */
  get bufferedBytes(): number {
    return this.unitBytes + (this.fragments ? this.fragmentBytes : 0);
  }

  /** Packets went missing before the next one: the unit they belonged to cannot be rebuilt. */
  markLoss(): void {
    this.damaged = true;
    this.fragments = undefined;
  }

  /** Feeds one packet in sequence order; returns the access units it completes. */
  push(packet: RtpPacket): H264AccessUnit[] {
    const out: H264AccessUnit[] = [];
    if (this.unitTimestamp !== undefined && packet.timestamp !== this.unitTimestamp) this.finish(out);
    this.unitTimestamp = packet.timestamp;
    this.depacketize(packet.payload);
    if (packet.marker) this.finish(out);
    return out;
  }

  private depacketize(payload: Buffer): void {
    if (payload.length === 0) return;
    const type = nalType(payload);
    if (type >= 1 && type <= 23) {
      this.fragments = undefined;
      this.addNal(payload);
    } else if (type === NAL_STAP_A) {
      this.fragments = undefined;
      this.depacketizeStapA(payload);
    } else if (type === NAL_FU_A) {
      this.depacketizeFuA(payload);
    } else {
      this.damaged = true; // STAP-B, MTAP and FU-B belong to interleaved mode, which the client never asks for
    }
  }

  private depacketizeStapA(payload: Buffer): void {
    let offset = 1;
    while (offset < payload.length) {
      if (offset + 2 > payload.length) return this.markDamaged();
      const size = payload.readUInt16BE(offset);
      offset += 2;
      if (size === 0 || offset + size > payload.length) return this.markDamaged();
      this.addNal(payload.subarray(offset, offset + size));
      offset += size;
    }
  }

  private depacketizeFuA(payload: Buffer): void {
    if (payload.length < 3) return this.markDamaged();
    const indicator = payload[0]!;
    const header = payload[1]!;
    const start = (header & 0x80) !== 0;
    const end = (header & 0x40) !== 0;
    const body = payload.subarray(2);
    if (start) {
      this.fragments = [Buffer.from([(indicator & 0xe0) | (header & 0x1f)])];
      this.fragmentBytes = 1;
    } else if (!this.fragments) {
      return this.markDamaged(); // a middle or end fragment whose start we never saw
    }
    this.fragmentBytes += body.length;
    if (this.unitBytes + this.fragmentBytes > this.maxFrameBytes) this.tooLarge();
    this.fragments.push(body);
    if (end) {
      const nal = Buffer.concat(this.fragments, this.fragmentBytes);
      this.fragments = undefined;
      this.addNal(nal);
    }
  }

  private markDamaged(): void {
    this.damaged = true;
    this.fragments = undefined;
  }

  private addNal(nal: Buffer): void {
    if (nal.length === 0 || (nal[0]! & 0x80) !== 0) return this.markDamaged(); // forbidden_zero_bit set
    this.unitBytes += START_CODE_BYTES + nal.length;
    if (this.unitBytes > this.maxFrameBytes) this.tooLarge();
    if (this.nals.length >= MAX_NALS_PER_UNIT) return this.markDamaged();
    this.nals.push(nal);
  }

  private tooLarge(): never {
    throw new ProtocolError(`H.264: access unit larger than ${this.maxFrameBytes} bytes`);
  }

  private finish(out: H264AccessUnit[]): void {
    const nals = this.nals;
    const timestamp = this.unitTimestamp;
    const damaged = this.damaged || this.fragments !== undefined;
    this.nals = [];
    this.unitBytes = 0;
    this.unitTimestamp = undefined;
    this.damaged = false;
    this.fragments = undefined;
    if (nals.length === 0 || timestamp === undefined) return;
    if (damaged) {
      this.droppedUnits++;
      this.waitingForKeyframe = true;
      return;
    }
    const types = nals.map(nalType);
    if (this.waitingForKeyframe && !types.includes(NalType.idr)) {
      this.skippedUnits++;
      return;
    }
    this.waitingForKeyframe = false;
    for (const [index, nal] of nals.entries()) {
      if (types[index] === NalType.sps) this.sps = Buffer.from(nal);
      if (types[index] === NalType.pps) this.pps = Buffer.from(nal);
    }
    const keyframe = types.includes(NalType.idr);
    const prefix: Buffer[] = [];
    if (keyframe && !types.includes(NalType.sps) && this.sps) prefix.push(this.sps);
    if (keyframe && !types.includes(NalType.pps) && this.pps) prefix.push(this.pps);
    // An access unit delimiter must stay first (H.264 7.4.1.2.3), so parameter sets go in after it.
    const at = types[0] === NalType.aud ? 1 : 0;
    const data = [...nals.slice(0, at), ...prefix, ...nals.slice(at)];
    if (data.reduce((sum, nal) => sum + START_CODE_BYTES + nal.length, 0) > this.maxFrameBytes) this.tooLarge();
    out.push({ data, keyframe, rtpTimestamp: timestamp });
  }
}
