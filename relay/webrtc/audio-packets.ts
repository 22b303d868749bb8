import { randomInt } from 'node:crypto';
import type { AudioUnit } from '../../adapters/types.ts';
import { buildRtpPacket } from '../../media/rtp/packet.ts';
import { OPUS_CLOCK_RATE, packetizeOpus } from '../../media/rtp/opus.ts';

/** Written into packets until a viewer's own payload type replaces it. */
const PLACEHOLDER_PAYLOAD_TYPE = 111;

/** One listener of a stream's Opus packets: the WebRTC session, which sends them with its own payload type. */
export interface AudioPacketSink {
  /** One RTP packet of Opus whose sound starts at camera time `pts` (ms). */
  deliverAudio(packet: Buffer, pts: number): void;
}

/** The camera's Opus part as one stream sees it: subscribing starts its converter. */
export interface OpusSource {
  subscribe(listener: (unit: AudioUnit) => void): () => void;
}

/**
 * A stream's sound as RTP (RFC 7587), packetized once for all its WebRTC viewers: one SSRC, one sequence, timestamps
 * at 48 kHz from the camera's timeline (the video's are the same times at 90 kHz, so sender reports can pair them).
 * Listens to the camera's Opus only while it has viewers.
 */
export class AudioPackets {
  readonly ssrc: number;
  private sequence = randomInt(0, 0x10000);
  private readonly sinks = new Set<AudioPacketSink>();
  private unsubscribe: (() => void) | undefined;
  packetsOut = 0;

  constructor(private readonly opus: OpusSource, videoSsrc: number) {
    this.ssrc = otherSsrc(videoSsrc);
  }

  add(sink: AudioPacketSink): void {
    this.sinks.add(sink);
    this.unsubscribe ??= this.opus.subscribe((unit) => this.onUnit(unit));
  }

  remove(sink: AudioPacketSink): void {
    if (!this.sinks.delete(sink) || this.sinks.size > 0) return;
    this.close();
  }

  /** Stops listening (the converter stops with its last listener). Safe to call twice. */
  close(): void {
    this.sinks.clear();
    this.unsubscribe?.();
    this.unsubscribe = undefined;
  }

  private onUnit(unit: AudioUnit): void {
    let payloads;
    try {
      payloads = packetizeOpus(unit.data);
    } catch {
      return; // Over the RTP payload limit: no Opus encoder at 32 kbit/s makes one.
    }
    const timestamp = Math.round(unit.pts * (OPUS_CLOCK_RATE / 1000)) >>> 0;
    for (const { payload, marker } of payloads) {
      const packet = buildRtpPacket({ payloadType: PLACEHOLDER_PAYLOAD_TYPE, sequence: this.sequence, timestamp, ssrc: this.ssrc, marker }, payload);
      this.sequence = (this.sequence + 1) & 0xffff;
      this.packetsOut++;
      for (const sink of this.sinks) sink.deliverAudio(packet, unit.pts);
    }
  }
}

/** A random SSRC other than those given (a session's video, RTX and sound SSRCs must differ). */
export function otherSsrc(...taken: number[]): number {
  for (;;) {
    const candidate = randomInt(1, 0xffffffff);
    if (!taken.includes(candidate)) return candidate;
  }
}
