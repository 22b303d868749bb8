import type { AudioTrack } from '../types.ts';
import { FramePerPacketDepacketizer } from './audio-depacketizer.ts';
import { MAX_RTP_PAYLOAD } from './packet.ts';

/** The static RTP payload types of G.711 (RFC 3551): PCMU 0, PCMA 8. */
export const G711_PAYLOAD_TYPE = { pcmu: 0, pcma: 8 } as const;
/** One byte per sample: a payload of 8 kHz mono G.711 is at most this long (1 s), a generous bound. */
const MAX_G711_FRAME_BYTES = 8000 * 2;

/** A G.711 track: one byte per sample per channel, clock and sampling rate alike (8 kHz unless the SDP says otherwise). */
export function g711Track(codec: 'pcma' | 'pcmu', sampleRate = 8000, channels = 1): AudioTrack {
  return { kind: 'audio', codec, clockRate: sampleRate, sampleRate, channels };
}

/** Depacketizes PCMA/PCMU (RFC 3551 4.5.14): each packet's payload is one unit. */
export function g711Depacketizer(track: AudioTrack): FramePerPacketDepacketizer {
  return new FramePerPacketDepacketizer(track, MAX_G711_FRAME_BYTES * track.channels);
}

/** One G.711 payload after cutting a frame to packet size: the samples and their offset in clock ticks from the frame's time. */
export interface G711Payload {
  readonly payload: Buffer;
  readonly marker: boolean;
  readonly timestampOffset: number;
}

/** Cuts one G.711 frame into payloads of whole sample groups; each carries its tick offset (one tick per sample). */
export function packetizeG711(frame: Buffer, channels = 1, maxPayload = MAX_RTP_PAYLOAD): G711Payload[] {
  const step = Math.max(channels, maxPayload - (maxPayload % channels));
  const out: G711Payload[] = [];
  for (let at = 0; at < frame.length; at += step) out.push({ payload: frame.subarray(at, at + step), marker: false, timestampOffset: at / channels });
  return out;
}
