import { ProtocolError } from '../errors.ts';
import type { AudioTrack } from '../types.ts';
import { FramePerPacketDepacketizer } from './audio-depacketizer.ts';
import { MAX_RTP_PAYLOAD, type RtpPayload } from './packet.ts';

/** RFC 7587: the RTP clock of Opus is always 48 kHz, whatever rate the encoder ran at. */
export const OPUS_CLOCK_RATE = 48_000;
/** The largest Opus packet: 120 ms of frames at most 1275 bytes each (RFC 6716 3.2.5), plus framing. */
const MAX_OPUS_PACKET_BYTES = 6 * 1275 + 7;

/** An Opus track; `channels` is what the decoder outputs (2 when the SDP says stereo=1 or sprop-stereo=1, else 1 or 2 as known). */
export function opusTrack(channels = 2): AudioTrack {
  return { kind: 'audio', codec: 'opus', clockRate: OPUS_CLOCK_RATE, sampleRate: OPUS_CLOCK_RATE, channels };
}

/** Depacketizes Opus (RFC 7587): each packet's payload is one Opus packet, one unit. */
export function opusDepacketizer(track: AudioTrack = opusTrack()): FramePerPacketDepacketizer {
  return new FramePerPacketDepacketizer(track, MAX_OPUS_PACKET_BYTES);
}

/** One Opus packet as one RTP payload (RFC 7587 never fragments); throws if it cannot fit. */
export function packetizeOpus(packet: Buffer, maxPayload = MAX_RTP_PAYLOAD): RtpPayload[] {
  if (packet.length > maxPayload) throw new ProtocolError(`Opus: a packet of ${packet.length} bytes is over the ${maxPayload} byte RTP payload limit`);
  return [{ payload: packet, marker: false }];
}

/** Frame lengths in 48 kHz samples by TOC configuration (RFC 6716 3.1): SILK 0-11, hybrid 12-15, CELT 16-31. */
function opusFrameSamples(config: number): number {
  if (config < 12) return [480, 960, 1920, 2880][config % 4]!;
  if (config < 16) return [480, 960][config % 2]!;
  return [120, 240, 480, 960][config % 4]!;
}

/** Samples (at 48 kHz) an Opus packet decodes to, read from its TOC byte and frame count; 0 for a packet too short to say. */
export function opusPacketSamples(packet: Buffer): number {
  if (packet.length === 0) return 0;
  const toc = packet[0]!;
  const code = toc & 0x03;
  const frames = code === 0 ? 1 : code < 3 ? 2 : packet.length > 1 ? packet[1]! & 0x3f : 0;
  return frames * opusFrameSamples(toc >> 3);
}

/** The largest Opus frame in bytes (RFC 6716 3.2.1). */
const MAX_OPUS_FRAME_BYTES = 1275;
/** The most a packet may hold: 120 ms at 48 kHz (RFC 6716 3.2.5). */
const MAX_OPUS_PACKET_SAMPLES = 5760;

/**
 * Whether a packet is framed as RFC 6716 3.4 requires (a decoder refuses one that is not): a TOC byte, frames of at most
 * 1275 bytes, two equal frames for code 1, a first frame length that fits for code 2, at least one frame and at most
 * 120 ms for code 3.
 */
export function isWellFormedOpusPacket(packet: Buffer): boolean {
  const samples = opusPacketSamples(packet);
  if (samples === 0 || samples > MAX_OPUS_PACKET_SAMPLES) return false;
  const rest = packet.length - 1;
  const code = packet[0]! & 0x03;
  if (code === 0) return rest <= MAX_OPUS_FRAME_BYTES;
  if (code === 1) return rest % 2 === 0 && rest / 2 <= MAX_OPUS_FRAME_BYTES;
  if (code === 2) {
    if (rest < 1) return false;
    const first = packet[1]!;
    const lengthBytes = first < 252 ? 1 : 2;
    if (rest < lengthBytes) return false;
    const length = first < 252 ? first : first + 4 * packet[2]!;
    const second = rest - lengthBytes - length;
    return length <= MAX_OPUS_FRAME_BYTES && second >= 0 && second <= MAX_OPUS_FRAME_BYTES;
  }
  return rest >= 1; // code 3: the frame count byte, read above
}
