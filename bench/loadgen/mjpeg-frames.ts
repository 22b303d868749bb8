import { JPEG_EOI, STAMP_DIGITS, STAMP_MARKER, readStamp } from '../stamp.ts';
import type { BodySink } from './http-reader.ts';

/** Bytes of a stamp segment: a match can straddle two reads by at most this minus one. */
const STAMP_BYTES = STAMP_MARKER.length + STAMP_DIGITS;

/**
 * Finds stamped JPEGs in an MJPEG body without parsing the multipart structure: a frame is a stamp followed by an
 * end-of-image marker, and it is counted when its last byte arrives. A stamp followed by another stamp before any EOI
 * (a server skipped bytes) counts as a cut frame. Two indexOf calls per read: cheap enough for thousands of viewers.
 */
export class MjpegFrameFinder implements BodySink {
  cutFrames = 0;
  private stamp: number | undefined;
  private carry = Buffer.alloc(0);

  constructor(private readonly onFrame: (stamp: number, at: number) => void) {}

  push(bytes: Buffer, at: number): void {
    let from = 0;
    let edgeConsumed = 0;
    if (this.carry.length > 0) {
      // Events that straddle the previous reads and this one, found in a small joined edge.
      const edge = Buffer.concat([this.carry, bytes.subarray(0, STAMP_BYTES)]);
      edgeConsumed = this.scan(edge, 0, this.carry.length, at);
      from = Math.max(0, edgeConsumed - this.carry.length);
    }
    const consumed = this.scan(bytes, from, bytes.length, at);
    if (bytes.length >= STAMP_BYTES - 1) {
      this.carry = Buffer.from(bytes.subarray(Math.max(consumed, bytes.length - (STAMP_BYTES - 1))));
      return;
    }
    // A read shorter than a stamp: the carry keeps the unconsumed tail of the previous carry too.
    const joined = Buffer.concat([this.carry, bytes]);
    const joinedConsumed = consumed > 0 ? this.carry.length + consumed : edgeConsumed;
    this.carry = joined.subarray(Math.max(joinedConsumed, joined.length - (STAMP_BYTES - 1)));
  }

  /** Handles events that start before `limit`, in order; returns the offset after the last one handled. */
  private scan(bytes: Buffer, from: number, limit: number, at: number): number {
    for (;;) {
      if (this.stamp === undefined) {
        const marker = bytes.indexOf(STAMP_MARKER, from);
        if (marker < 0 || marker >= limit || marker + STAMP_BYTES > bytes.length) return from;
        this.stamp = readStamp(bytes, marker);
        from = marker + STAMP_BYTES;
        continue;
      }
      const end = bytes.indexOf(JPEG_EOI, from);
      const window = end < 0 ? bytes.subarray(from) : bytes.subarray(from, end);
      const nextMarker = window.indexOf(STAMP_MARKER);
      if (nextMarker >= 0 && from + nextMarker < limit) {
        if (from + nextMarker + STAMP_BYTES > bytes.length) return from;
        this.cutFrames++;
        this.stamp = readStamp(bytes, from + nextMarker);
        from = from + nextMarker + STAMP_BYTES;
        continue;
      }
      if (end < 0 || end >= limit) return from;
      const stamp = this.stamp;
      this.stamp = undefined;
      from = end + JPEG_EOI.length;
      if (Number.isFinite(stamp)) this.onFrame(stamp, at);
    }
  }
}
