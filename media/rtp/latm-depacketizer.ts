import { BitReader } from '../aac/bits.ts';
import { aacTrack, readAudioSpecificConfig, type AacConfig } from '../aac/config.ts';
import { ProtocolError } from '../errors.ts';
import type { AudioTrack } from '../types.ts';
import { AudioUnitClock, type AudioDepacketizer, type RtpAudioUnit } from './audio-depacketizer.ts';
import type { RtpPacket } from './rtp.ts';

/** What the relay needs of a StreamMuxConfig (ISO/IEC 14496-3 1.7.3): the AAC configuration and subframes per element. */
export interface StreamMuxConfig {
  /** The AudioSpecificConfig inside, copied out as bytes. */
  readonly audioSpecificConfig: Buffer;
  readonly aac: AacConfig;
  /** Frames per AudioMuxElement (numSubFrames + 1). */
  readonly subFrames: number;
}

function latmError(message: string): ProtocolError {
  return new ProtocolError(`MP4A-LATM: ${message}`);
}

function latmGetValue(reader: BitReader): number {
  const bytes = reader.read(2);
  let value = 0;
  for (let i = 0; i <= bytes; i++) value = value * 256 + reader.read(8);
  return value;
}

/**
 * Parses a StreamMuxConfig, as the SDP's fmtp `config` carries it in hex (RFC 6416 with cpresent=0). Only what RTP
 * senders use is taken: one program, one layer, frameLengthType 0 (payload lengths in the stream).
 */
export function parseStreamMuxConfig(bytes: Buffer): StreamMuxConfig {
  if (bytes.length < 3 || bytes.length > 64) throw latmError(`a StreamMuxConfig of ${bytes.length} bytes`);
  const reader = new BitReader(bytes, 'MP4A-LATM StreamMuxConfig');
  const version = reader.read(1);
  if (version === 1) {
    if (reader.read(1)) throw latmError('audioMuxVersionA 1 is reserved');
    latmGetValue(reader); // taraBufferFullness
  }
  reader.read(1); // allStreamsSameTimeFraming
  const subFrames = reader.read(6) + 1;
  if (reader.read(4) !== 0 || reader.read(3) !== 0) throw latmError('more than one program or layer');
  let parsed: ReturnType<typeof readAudioSpecificConfig>;
  if (version === 1) {
    const length = latmGetValue(reader);
    const start = reader.position;
    parsed = readAudioSpecificConfig(reader);
    if (reader.position - start > length) throw latmError('AudioSpecificConfig longer than its length');
    reader.read(length - (reader.position - start)); // fill bits
  } else {
    parsed = readAudioSpecificConfig(reader);
  }
  if (reader.read(3) !== 0) throw latmError('only frameLengthType 0 (payload lengths in the stream) is read');
  return { audioSpecificConfig: parsed.bytes, aac: parsed.config, subFrames };
}

/** Most bytes one AudioMuxElement may gather over packets: every subframe at the configuration's largest frame. */
const MAX_SUBFRAMES = 64;

/**
 * Rebuilds AAC frames from RFC 6416 `MP4A-LATM` payloads with cpresent=0: packets up to the marker bit make one
 * AudioMuxElement, which holds numSubFrames+1 times a PayloadLengthInfo (bytes of 255 summed until one is below) and
 * that many bytes of raw AAC. Subframes take consecutive frame times. A damaged element is dropped; memory is bounded.
 */
export class LatmDepacketizer implements AudioDepacketizer {
  readonly track: AudioTrack;
  private readonly mux: StreamMuxConfig;
  private readonly clock: AudioUnitClock;
  private readonly maxElementBytes: number;
  private parts: Buffer[] = [];
  private bytes = 0;
  private timestamp: number | undefined;
  private damaged = false;
  /** Mux elements dropped: damaged by loss, malformed or oversized. */
  droppedFrames = 0;

  /** `clockRate` is the RTP clock from the SDP's rtpmap, when it differs from the sampling rate. */
  constructor(streamMuxConfig: Buffer, clockRate?: number) {
    this.mux = parseStreamMuxConfig(streamMuxConfig);
    const track = aacTrack(this.mux.audioSpecificConfig);
    this.track = { ...track, clockRate: clockRate ?? track.clockRate };
    this.clock = new AudioUnitClock(this.track);
    this.maxElementBytes = Math.min(MAX_SUBFRAMES, this.mux.subFrames) * (this.mux.aac.maxFrameBytes + 32);
  }

  get bufferedBytes(): number {
    return this.bytes;
  }

  markLoss(): void {
    if (this.timestamp !== undefined) this.damaged = true;
  }

  push(packet: RtpPacket): RtpAudioUnit[] {
    const out: RtpAudioUnit[] = [];
    if (this.timestamp !== undefined && packet.timestamp !== this.timestamp) {
      this.damaged = true; // the marker of the element in progress was lost
      this.finish(out);
    }
    this.timestamp = packet.timestamp;
    if (this.bytes + packet.payload.length > this.maxElementBytes) {
      this.damaged = true;
    } else {
      this.parts.push(Buffer.from(packet.payload));
      this.bytes += packet.payload.length;
    }
    if (packet.marker) this.finish(out);
    return out;
  }

  private finish(out: RtpAudioUnit[]): void {
    const { parts, bytes, timestamp, damaged } = this;
    this.parts = [];
    this.bytes = 0;
    this.timestamp = undefined;
    this.damaged = false;
    if (timestamp === undefined) return;
    const frames = damaged ? undefined : this.split(Buffer.concat(parts, bytes));
    if (!frames) {
      this.droppedFrames++;
      return;
    }
    frames.forEach((frame, index) => out.push(this.clock.unit(frame, timestamp + (index * this.mux.aac.frameLength * this.track.clockRate) / this.mux.aac.sampleRate)));
  }

  /** The subframes of one AudioMuxElement, or undefined when the lengths do not add up. */
  private split(element: Buffer): Buffer[] | undefined {
    const frames: Buffer[] = [];
    let offset = 0;
    for (let i = 0; i < this.mux.subFrames; i++) {
      let length = 0;
      for (;;) {
        const byte = element[offset++];
        if (byte === undefined) return undefined;
        length += byte;
        if (byte !== 255) break;
      }
      if (length === 0 || length > this.mux.aac.maxFrameBytes || offset + length > element.length) return undefined;
      frames.push(element.subarray(offset, offset + length));
      offset += length;
    }
    return frames;
  }
}
