/** RTCP payload-specific feedback (RFC 4585 section 6.1), FMT 1: picture loss indication. */
const PT_PAYLOAD_SPECIFIC_FEEDBACK = 206;
const FMT_PICTURE_LOSS = 1;

/** A PLI asking the sender of `mediaSsrc` for a keyframe (RFC 4585 section 6.3.1): 12 bytes, no FCI. */
export function pictureLossIndication(senderSsrc: number, mediaSsrc: number): Buffer {
  const packet = Buffer.alloc(12);
  packet[0] = 0x80 | FMT_PICTURE_LOSS;
  packet[1] = PT_PAYLOAD_SPECIFIC_FEEDBACK;
  packet.writeUInt16BE(2, 2); // length in 32-bit words minus one
  packet.writeUInt32BE(senderSsrc >>> 0, 4);
  packet.writeUInt32BE(mediaSsrc >>> 0, 8);
  return packet;
}

/** Spaces keyframe requests: one per loss event is enough, and a flood would only make the sender send more keyframes. */
export class KeyframeRequests {
  private lastAt = -Infinity;
  sent = 0;

  constructor(private readonly minIntervalMs = 250) {}

  /** Whether a request may go out now; counts it if so. */
  take(nowMs: number): boolean {
    if (nowMs - this.lastAt < this.minIntervalMs) return false;
    this.lastAt = nowMs;
    this.sent++;
    return true;
  }
}
