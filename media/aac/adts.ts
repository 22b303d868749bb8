import { ByteBuffer } from '../../lib/byte-buffer.ts';
import { ProtocolError } from '../errors.ts';
import { AAC_SAMPLE_RATES, buildAudioSpecificConfig, type AacConfig } from './config.ts';

/** One AAC frame read from an ADTS stream: the raw frame (no ADTS header) and the AudioSpecificConfig its header implies. */
export interface AdtsFrame {
  readonly data: Buffer;
  readonly config: Buffer;
  readonly sampleRate: number;
  readonly channels: number;
}

/** The fields of an ADTS fixed and variable header (ISO/IEC 14496-3 1.A.2.2). */
export interface AdtsHeader {
  readonly objectType: number;
  readonly samplingFrequencyIndex: number;
  readonly channelConfiguration: number;
  /** Header plus raw data, bytes. */
  readonly frameLength: number;
  readonly headerLength: number;
  readonly rawDataBlocks: number;
}

const HEADER_BYTES = 7;
const MAX_FRAME_LENGTH = 0x1fff;

/** Parses the ADTS header at the start of `bytes`; undefined when it is not one (no sync word, reserved fields). */
export function parseAdtsHeader(bytes: Buffer): AdtsHeader | undefined {
  if (bytes.length < HEADER_BYTES) return undefined;
  if (bytes[0] !== 0xff || (bytes[1]! & 0xf6) !== 0xf0) return undefined; // sync word and layer 0
  const protectionAbsent = bytes[1]! & 1;
  const samplingFrequencyIndex = (bytes[2]! >> 2) & 0x0f;
  const channelConfiguration = ((bytes[2]! & 1) << 2) | (bytes[3]! >> 6);
  const frameLength = ((bytes[3]! & 0x03) << 11) | (bytes[4]! << 3) | (bytes[5]! >> 5);
  const headerLength = protectionAbsent ? HEADER_BYTES : HEADER_BYTES + 2;
  if (samplingFrequencyIndex >= AAC_SAMPLE_RATES.length || channelConfiguration === 0 || frameLength <= headerLength) return undefined;
  return { objectType: (bytes[2]! >> 6) + 1, samplingFrequencyIndex, channelConfiguration, frameLength, headerLength, rawDataBlocks: (bytes[6]! & 0x03) + 1 };
}

/** The 7-byte ADTS header (no CRC) for one raw AAC frame of `rawLength` bytes: what MPEG-TS carries before each frame. */
export function adtsHeader(config: AacConfig, rawLength: number): Buffer {
  if (config.objectType < 1 || config.objectType > 4) throw new ProtocolError(`ADTS: object type ${config.objectType} cannot be written in ADTS`);
  if (config.samplingFrequencyIndex === undefined) throw new ProtocolError(`ADTS: sampling rate ${config.sampleRate} Hz has no index`);
  if (config.channelConfiguration > 7) throw new ProtocolError(`ADTS: channel configuration ${config.channelConfiguration}`);
  const frameLength = rawLength + HEADER_BYTES;
  if (frameLength > MAX_FRAME_LENGTH) throw new ProtocolError(`ADTS: a frame of ${rawLength} bytes does not fit`);
  const header = Buffer.alloc(HEADER_BYTES);
  header[0] = 0xff;
  header[1] = 0xf1; // MPEG-4, layer 0, no CRC
  header[2] = ((config.objectType - 1) << 6) | (config.samplingFrequencyIndex << 2) | (config.channelConfiguration >> 2);
  header[3] = ((config.channelConfiguration & 3) << 6) | (frameLength >> 11);
  header[4] = (frameLength >> 3) & 0xff;
  header[5] = ((frameLength & 7) << 5) | 0x1f; // buffer fullness 0x7ff: variable rate
  header[6] = 0xfc; // one raw data block
  return header;
}

/**
 * Splits an ADTS byte stream (ffmpeg's `-f adts`, a camera's AAC over a pipe) into frames. A frame cut by the end of a
 * chunk waits for the next; bytes that are not a frame are skipped up to the next header that checks out (a frame
 * header followed by another header, or the stream's end). Holds at most one frame's bytes between chunks.
 */
export class AdtsReader {
  private readonly pending = new ByteBuffer(16 * 1024);
  /** Bytes skipped while looking for a frame header. */
  skippedBytes = 0;
  /** Frames with several raw data blocks, which are skipped: no container here carries them. */
  skippedFrames = 0;

  get pendingBytes(): number {
    return this.pending.length;
  }

  push(chunk: Buffer): AdtsFrame[] {
    this.pending.append(chunk);
    const frames: AdtsFrame[] = [];
    for (;;) {
      const view = this.pending.view();
      if (view.length < HEADER_BYTES) break;
      const header = parseAdtsHeader(view);
      if (!header) {
        this.resync(view);
        continue;
      }
      if (view.length < header.frameLength) break;
      // A header in the middle of garbage can look right by chance: the next frame's header confirms it.
      if (view.length >= header.frameLength + 2 && !(view[header.frameLength] === 0xff && (view[header.frameLength + 1]! & 0xf6) === 0xf0)) {
        this.skip(1);
        continue;
      }
      const frame = this.pending.take(header.frameLength);
      if (header.rawDataBlocks !== 1) {
        this.skippedFrames++;
        continue;
      }
      frames.push(toFrame(header, frame));
    }
    return frames;
  }

  private resync(view: Buffer): void {
    const next = view.indexOf(0xff, 1);
    this.skip(next < 0 ? view.length : next);
  }

  private skip(count: number): void {
    this.skippedBytes += count;
    this.pending.skip(count);
  }
}

const configCache = new Map<number, Buffer>();

function toFrame(header: AdtsHeader, frame: Buffer): AdtsFrame {
  const key = (header.objectType << 8) | (header.samplingFrequencyIndex << 4) | header.channelConfiguration;
  const sampleRate = AAC_SAMPLE_RATES[header.samplingFrequencyIndex]!;
  const channels = header.channelConfiguration === 7 ? 8 : header.channelConfiguration;
  let config = configCache.get(key);
  if (!config) {
    config = buildAudioSpecificConfig({ objectType: header.objectType, sampleRate, channels });
    configCache.set(key, config);
  }
  return { data: frame.subarray(header.headerLength), config, sampleRate, channels };
}
