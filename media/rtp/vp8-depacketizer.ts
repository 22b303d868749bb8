import { ProtocolError } from '../errors.ts';
import type { RtpPacket } from './rtp.ts';

/** One whole VP8 frame rebuilt from RTP packets, with the RTP timestamp it carried. */
export interface Vp8Frame {
  readonly data: Buffer;
  readonly keyframe: boolean;
  readonly rtpTimestamp: number;
}

/** The start of a VP8 payload after its RTP payload descriptor (RFC 7741 section 4.2). */
interface Descriptor {
  /** S bit set and partition index 0: the first packet of a frame. */
  readonly frameStart: boolean;
  readonly payload: Buffer;
}

/** More packets than any frame within maxFrameBytes needs; bounds the bookkeeping for hostile empty packets. */
const MAX_PACKETS_PER_FRAME = 8192;

/** Reads the payload descriptor; undefined when it overruns the packet or leaves no VP8 bytes. */
export function parseVp8Descriptor(payload: Buffer): Descriptor | undefined {
  if (payload.length < 1) return undefined;
  const first = payload[0]!;
  let offset = 1;
  if (first & 0x80) {
    if (payload.length < 2) return undefined;
    const extension = payload[1]!;
    offset = 2;
    if (extension & 0x80) {
      if (payload.length <= offset) return undefined;
      offset += payload[offset]! & 0x80 ? 2 : 1; // M bit: a 15-bit picture ID
    }
    if (extension & 0x40) offset += 1; // TL0PICIDX
    if (extension & 0x30) offset += 1; // TID, Y and KEYIDX share one byte
  }
  if (offset >= payload.length) return undefined;
  return { frameStart: (first & 0x10) !== 0 && (first & 0x07) === 0, payload: payload.subarray(offset) };
}

/** A keyframe's uncompressed header: a 3-byte frame tag, the start code 9d 01 2a, width and height (RFC 6386 9.1). */
const VP8_KEYFRAME_HEADER_BYTES = 10;
/** The 3-byte frame tag every VP8 frame starts with. */
const VP8_FRAME_TAG_BYTES = 3;

/** The keyframe start code after the frame tag. */
function hasKeyframeStartCode(frame: Buffer): boolean {
  return frame[3] === 0x9d && frame[4] === 0x01 && frame[5] === 0x2a;
}

/** A keyframe's size from its uncompressed header (RFC 6386 section 9.1); undefined if the header is not a keyframe's. */
export function vp8KeyframeSize(frame: Buffer): { width: number; height: number } | undefined {
  if (frame.length < VP8_KEYFRAME_HEADER_BYTES || (frame[0]! & 0x01) !== 0) return undefined;
  if (!hasKeyframeStartCode(frame)) return undefined;
  const width = frame.readUInt16LE(6) & 0x3fff;
  const height = frame.readUInt16LE(8) & 0x3fff;
  return width > 0 && height > 0 ? { width, height } : undefined;
}

/** Whether a VP8 frame can be one at all: a keyframe with its whole header and start code, another frame with its tag. */
export function isPlausibleVp8Frame(frame: Buffer, keyframe: boolean): boolean {
  if (!keyframe) return frame.length >= VP8_FRAME_TAG_BYTES;
  return frame.length >= VP8_KEYFRAME_HEADER_BYTES && hasKeyframeStartCode(frame);
}

/**
 * Rebuilds VP8 frames from RTP payloads (RFC 7741). A frame starts at a packet with the S bit and partition 0 and ends
 * at the marker bit (a frame cut short by a new timestamp lost its end). A frame damaged by loss is dropped, and so is every frame after
 * it until the next keyframe, since inter frames reference what was lost; the stream starts on a keyframe too.
 */
export class Vp8Depacketizer {
  private parts: Buffer[] = [];
  private bytes = 0;
  private timestamp: number | undefined;
  private started = false;
  private damaged = false;
  private waitingForKeyframe = true;
  /** Frames dropped because packets were lost or malformed. */
  droppedFrames = 0;
  /** Intact frames dropped while waiting for a keyframe. */
  skippedFrames = 0;

  constructor(private readonly maxFrameBytes: number) {}

  /** Bytes held for the frame in progress. */
  get bufferedBytes(): number {
    return this.bytes;
  }

  /** Packets went missing: the frame in progress is damaged, and what follows needs a keyframe. */
  markLoss(): void {
    if (this.timestamp !== undefined) this.damaged = true;
    this.waitingForKeyframe = true;
  }

  /** Feeds one packet in sequence order; returns the frame it completes, if any. Throws past maxFrameBytes. */
  push(packet: RtpPacket): Vp8Frame[] {
    const out: Vp8Frame[] = [];
    if (this.timestamp !== undefined && packet.timestamp !== this.timestamp) {
      this.damaged = true; // RFC 7741 marks the last packet of every frame: without it, the frame's end was lost
      this.finish(out);
    }
    const descriptor = parseVp8Descriptor(packet.payload);
    if (this.timestamp === undefined) this.timestamp = packet.timestamp;
    if (!descriptor) {
      this.damaged = true;
    } else if (descriptor.frameStart) {
      if (this.started) this.damaged = true; // two starts in one frame: something was lost or repeated
      this.started = true;
      this.append(descriptor.payload);
    } else if (this.started) {
      this.append(descriptor.payload);
    } else {
      this.damaged = true; // the rest of a frame whose first packet never came
    }
    if (packet.marker) this.finish(out);
    return out;
  }

  private append(payload: Buffer): void {
    if (this.parts.length >= MAX_PACKETS_PER_FRAME) {
      this.damaged = true;
      return;
    }
    this.bytes += payload.length;
    if (this.bytes > this.maxFrameBytes) {
      this.reset();
      throw new ProtocolError(`VP8: frame larger than ${this.maxFrameBytes} bytes`);
    }
    this.parts.push(payload);
  }

  private reset(): void {
    this.parts = [];
    this.bytes = 0;
    this.timestamp = undefined;
    this.started = false;
    this.damaged = false;
  }

  private finish(out: Vp8Frame[]): void {
    const { parts, bytes, timestamp, started, damaged } = this;
    this.reset();
    if (timestamp === undefined) return;
    if (damaged || !started || bytes === 0) {
      this.droppedFrames++;
      this.waitingForKeyframe = true;
      return;
    }
    const data = Buffer.concat(parts, bytes);
    const keyframe = (data[0]! & 0x01) === 0;
    if (this.waitingForKeyframe && !keyframe) {
      this.skippedFrames++;
      return;
    }
    this.waitingForKeyframe = false;
    out.push({ data, keyframe, rtpTimestamp: timestamp });
  }
}
