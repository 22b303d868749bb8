import { h264Track } from './params.ts';
import type { H264Track, H264Unit } from '../types.ts';

/** The NAL unit types the relay acts on (H.264 table 7-1). */
export const NalType = { idr: 5, sei: 6, sps: 7, pps: 8, aud: 9 } as const;

/** A NAL unit's type: the low five bits of its header byte. */
export function nalType(nal: Buffer): number {
  return (nal[0] ?? 0) & 0x1f;
}

/** Whether an access unit can be H.264 at all: NAL units each with a header byte, its forbidden_zero_bit clear, and a byte after it. */
export function hasPlausibleNalUnits(nalus: readonly Buffer[]): boolean {
  return nalus.length > 0 && nalus.every((nal) => nal.length >= 2 && (nal[0]! & 0x80) === 0);
}

const UNKNOWN_SIZE = { width: 0, height: 0 };

/**
 * Turns one source's H.264 access units (NAL unit lists, SPS and PPS in band in front of keyframes) into units of the
 * media model: the parameter sets become the track (a new track where they change), SPS, PPS and access unit
 * delimiters leave the unit. Units before the first SPS and PPS cannot be decoded and are dropped; an SPS this parser cannot read makes a track of
 * picture size 0 x 0 that says why (`spsProblem`).
 */
export class H264UnitBuilder {
  private current: H264Track | undefined;
  /** Access units dropped: no track yet, or nothing but parameter sets. */
  dropped = 0;

  get track(): H264Track | undefined {
    return this.current;
  }

  /** The unit for one access unit, or undefined where it is dropped. The NAL unit buffers go on as they are. */
  unit(nalus: readonly Buffer[], pts: number, dts: number, keyframe: boolean): H264Unit | undefined {
    const sps = nalus.find((nal) => nalType(nal) === NalType.sps);
    const pps = nalus.find((nal) => nalType(nal) === NalType.pps);
    if (keyframe && sps && pps && !(this.current?.sps.equals(sps) && this.current.pps.equals(pps))) {
      try {
        this.current = h264Track(Buffer.from(sps), Buffer.from(pps));
      } catch (error) {
        // ffmpeg may still decode what this parser cannot: the track goes on with no picture size (0 x 0).
        const spsProblem = `unreadable SPS: ${(error as Error).message}`;
        this.current = { ...h264Track(Buffer.from(sps), Buffer.from(pps), UNKNOWN_SIZE), spsProblem };
      }
    }
    const data = nalus.filter((nal) => {
      const type = nalType(nal);
      return type !== NalType.sps && type !== NalType.pps && type !== NalType.aud;
    });
    if (!this.current || data.length === 0) {
      this.dropped++;
      return undefined;
    }
    return { track: this.current, data, pts, dts, keyframe };
  }
}
