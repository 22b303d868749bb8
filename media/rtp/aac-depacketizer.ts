import { aacTrack, parseAudioSpecificConfig, type AacConfig } from '../aac/config.ts';
import { BitReader } from '../aac/bits.ts';
import { ProtocolError } from '../errors.ts';
import type { AudioTrack } from '../types.ts';
import { AudioUnitClock, type AudioDepacketizer, type RtpAudioUnit } from './audio-depacketizer.ts';
import type { RtpPacket } from './rtp.ts';

/** The AU-header layout an SDP's fmtp gives for `mpeg4-generic` (RFC 3640 4.1): lengths in bits. */
export interface AuHeaderLayout {
  readonly sizeLength: number;
  readonly indexLength: number;
  readonly indexDeltaLength: number;
}

/** AAC-hbr's layout (RFC 3640 3.3.6), what nearly every camera sends. */
export const AAC_HBR_LAYOUT: AuHeaderLayout = { sizeLength: 13, indexLength: 3, indexDeltaLength: 3 };
/** More AUs than any packet within the MTU holds; bounds the work a hostile AU-headers-length can cause. */
const MAX_AUS_PER_PACKET = 512;

/** Reads sizelength/indexlength/indexdeltalength from fmtp parameters (names lower-cased), checking their ranges. */
export function auHeaderLayout(fmtp: ReadonlyMap<string, string>): AuHeaderLayout {
  const field = (name: string, fallback: number, max: number): number => {
    const text = fmtp.get(name);
    if (text === undefined) return fallback;
    const value = Number(text);
    if (!Number.isInteger(value) || value < 0 || value > max) throw new ProtocolError(`mpeg4-generic: ${name}=${text} is out of range`);
    return value;
  };
  const layout = { sizeLength: field('sizelength', 13, 16), indexLength: field('indexlength', 3, 8), indexDeltaLength: field('indexdeltalength', 3, 8) };
  if (layout.sizeLength === 0) throw new ProtocolError('mpeg4-generic: sizelength is 0 (only AAC-hbr and AAC-lbr are read)');
  return layout;
}

/**
 * Rebuilds AAC frames from RFC 3640 `mpeg4-generic` payloads: an AU-headers section (16-bit length in bits, then one
 * header per AU), then the AUs back to back; several AUs per packet take consecutive frame times; one AU larger than a
 * packet comes in fragments that share a timestamp, the last with the marker bit. A fragmented AU damaged by loss or
 * running past its announced size is dropped; memory is bounded by one AU. AU-Index-delta is read but not used to
 * reorder: cameras and ffmpeg send AUs in order (interleaving is an option of RFC 3640 nobody sends over RTSP).
 */
export class AacHbrDepacketizer implements AudioDepacketizer {
  readonly track: AudioTrack;
  private readonly config: AacConfig;
  private readonly clock: AudioUnitClock;
  private readonly ticksPerFrame: number;
  private fragment: { parts: Buffer[]; bytes: number; size: number; timestamp: number } | undefined;
  /** AUs dropped: damaged by loss, malformed, or over the configuration's frame size limit. */
  droppedFrames = 0;

  /** `clockRate` is the RTP clock from the SDP's rtpmap, when it differs from the sampling rate. */
  constructor(config: Buffer, private readonly layout: AuHeaderLayout = AAC_HBR_LAYOUT, clockRate?: number) {
    this.config = parseAudioSpecificConfig(config);
    const track = aacTrack(config);
    this.track = { ...track, clockRate: clockRate ?? track.clockRate };
    this.clock = new AudioUnitClock(this.track);
    this.ticksPerFrame = (this.config.frameLength * this.track.clockRate) / this.config.sampleRate;
  }

  /** Bytes held of a fragmented AU. */
  get bufferedBytes(): number {
    return this.fragment?.bytes ?? 0;
  }

  markLoss(): void {
    if (this.fragment) this.droppedFrames++;
    this.fragment = undefined;
  }

  push(packet: RtpPacket): RtpAudioUnit[] {
    const payload = packet.payload;
    if (payload.length < 2) return this.malformed();
    const headerBits = payload.readUInt16BE(0);
    const headerBytes = Math.ceil(headerBits / 8);
    if (2 + headerBytes > payload.length) return this.malformed();
    const reader = new BitReader(payload.subarray(2, 2 + headerBytes), 'mpeg4-generic AU headers');
    const sizes: number[] = [];
    try {
      while (reader.position + this.layout.sizeLength <= headerBits && sizes.length < MAX_AUS_PER_PACKET) {
        sizes.push(reader.read(this.layout.sizeLength));
        reader.read(sizes.length === 1 ? this.layout.indexLength : this.layout.indexDeltaLength);
      }
    } catch {
      return this.malformed();
    }
    const data = payload.subarray(2 + headerBytes);
    if (this.fragment) return this.continueFragment(packet, data);
    const out: RtpAudioUnit[] = [];
    let offset = 0;
    for (const [index, size] of sizes.entries()) {
      if (size > this.config.maxFrameBytes) return this.malformed(out);
      if (offset + size > data.length) {
        // One AU larger than the packet: the rest follows in packets with the same timestamp.
        if (sizes.length !== 1 || packet.marker) return this.malformed(out);
        this.fragment = { parts: [Buffer.from(data)], bytes: data.length, size, timestamp: packet.timestamp };
        return out;
      }
      if (size > 0) out.push(this.clock.unit(Buffer.from(data.subarray(offset, offset + size)), packet.timestamp + index * this.ticksPerFrame));
      offset += size;
    }
    return out;
  }

  private continueFragment(packet: RtpPacket, data: Buffer): RtpAudioUnit[] {
    const fragment = this.fragment!;
    if (packet.timestamp !== fragment.timestamp || fragment.bytes + data.length > fragment.size) {
      this.fragment = undefined;
      this.droppedFrames++;
      return packet.timestamp !== fragment.timestamp ? this.push(packet) : [];
    }
    fragment.parts.push(Buffer.from(data));
    fragment.bytes += data.length;
    if (!packet.marker) return [];
    this.fragment = undefined;
    if (fragment.bytes !== fragment.size) {
      this.droppedFrames++;
      return [];
    }
    return [this.clock.unit(Buffer.concat(fragment.parts, fragment.bytes), fragment.timestamp)];
  }

  private malformed(out: RtpAudioUnit[] = []): RtpAudioUnit[] {
    this.droppedFrames++;
    this.fragment = undefined;
    return out;
  }
}
