import { ProtocolError } from '../errors.ts';
import type { AudioTrack } from '../types.ts';
import { BitReader, BitWriter } from './bits.ts';

/** MPEG-4 Audio sampling frequencies by index (ISO/IEC 14496-3 1.6.3.4); 13 and 14 are reserved, 15 means explicit. */
export const AAC_SAMPLE_RATES = [96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350] as const;
/** Channels by channelConfiguration 1..7; 0 (a program config element decides) is not taken. */
const CHANNELS_BY_CONFIGURATION = [0, 1, 2, 3, 4, 5, 6, 8] as const;
const OBJECT_TYPE_SBR = 5;
const OBJECT_TYPE_PS = 29;
/** Object types whose config is a GASpecificConfig (AAC Main/LC/SSR/LTP/Scalable, TwinVQ and their ER variants). */
const GENERAL_AUDIO_TYPES = new Set([1, 2, 3, 4, 6, 7, 17, 19, 20, 21, 22, 23]);
/** The most a raw AAC frame can hold: 6144 bits per channel (ISO/IEC 14496-3 4.5.3.1). */
const MAX_BYTES_PER_CHANNEL = 768;

/** What an AudioSpecificConfig says, in the terms packagers need. */
export interface AacConfig {
  /** Audio object type of the core coder: 2 is AAC LC (HE-AAC's SBR and PS signal LC with an extension rate). */
  readonly objectType: number;
  /** The core coder's sampling rate, Hz: the rate of the AAC frames and of their timestamps. */
  readonly sampleRate: number;
  /** The index of `sampleRate` in the MPEG-4 table, undefined when the rate was written out (ADTS cannot carry it). */
  readonly samplingFrequencyIndex: number | undefined;
  readonly channelConfiguration: number;
  readonly channels: number;
  /** Samples per frame per channel: 1024, or 960 when frameLengthFlag is set. */
  readonly frameLength: number;
  /** HE-AAC: the output rate after spectral band replication. */
  readonly extensionSampleRate: number | undefined;
  /** Largest raw frame this configuration allows, bytes: a bound for depacketizers and the ADTS reader. */
  readonly maxFrameBytes: number;
}

function configError(message: string): ProtocolError {
  return new ProtocolError(`AAC AudioSpecificConfig: ${message}`);
}

function readObjectType(reader: BitReader): number {
  const type = reader.read(5);
  return type === 31 ? 32 + reader.read(6) : type;
}

function readSampleRate(reader: BitReader): { rate: number; index: number | undefined } {
  const index = reader.read(4);
  if (index === 15) {
    const rate = reader.read(24);
    if (rate < 1000) throw configError(`sampling rate ${rate} Hz`);
    return { rate, index: undefined };
  }
  const rate = AAC_SAMPLE_RATES[index];
  if (rate === undefined) throw configError(`reserved sampling frequency index ${index}`);
  return { rate, index };
}

/**
 * Reads an AudioSpecificConfig where it starts in `reader` (LATM embeds it at any bit), leaving the reader after it.
 * Returns the parsed fields and the config's own bits copied out as bytes.
 */
export function readAudioSpecificConfig(reader: BitReader): { config: AacConfig; bytes: Buffer } {
  const start = reader.position;
  let objectType = readObjectType(reader);
  if (objectType === 0) throw configError('object type 0 (null)');
  const core = readSampleRate(reader);
  const channelConfiguration = reader.read(4);
  let extensionSampleRate: number | undefined;
  if (objectType === OBJECT_TYPE_SBR || objectType === OBJECT_TYPE_PS) {
    extensionSampleRate = readSampleRate(reader).rate;
    objectType = readObjectType(reader);
  }
  if (channelConfiguration === 0) throw configError('channel configuration 0 (0 channels without a program config element)');
  const channels = CHANNELS_BY_CONFIGURATION[channelConfiguration];
  if (channels === undefined) throw configError(`reserved channel configuration ${channelConfiguration}`);
  let frameLength = 1024;
  if (GENERAL_AUDIO_TYPES.has(objectType)) {
    if (reader.read(1)) frameLength = 960;
    if (reader.read(1)) reader.read(14); // dependsOnCoreCoder: coreCoderDelay
    const extensionFlag = reader.read(1);
    if (objectType === 6 || objectType === 20) reader.read(3); // layerNr
    if (extensionFlag) {
      if (objectType === 22) reader.read(16); // numOfSubFrame, layer_length
      if (objectType === 17 || objectType === 19 || objectType === 20 || objectType === 23) reader.read(3);
      reader.read(1); // extensionFlag3
    }
    if (objectType >= 17 && objectType <= 27) reader.read(2); // epConfig of the error-resilient types
  }
  const config: AacConfig = {
    objectType,
    sampleRate: core.rate,
    samplingFrequencyIndex: core.index,
    channelConfiguration,
    channels,
    frameLength,
    extensionSampleRate,
    maxFrameBytes: MAX_BYTES_PER_CHANNEL * channels,
  };
  return { config, bytes: reader.copyFrom(start) };
}

/** Parses an AudioSpecificConfig (as FLV, MP4 esds, Matroska and the SDP's `config` carry it). */
export function parseAudioSpecificConfig(bytes: Buffer): AacConfig {
  if (bytes.length < 2) throw configError(`${bytes.length} bytes, at least 2 needed`);
  if (bytes.length > 64) throw configError(`${bytes.length} bytes is more than any configuration needs`);
  return readAudioSpecificConfig(new BitReader(bytes, 'AAC AudioSpecificConfig')).config;
}

/** Writes the AudioSpecificConfig of a plain (non-HE) AAC stream: object type, rate (by index where it has one), channels. */
export function buildAudioSpecificConfig(fields: { objectType: number; sampleRate: number; channels: number; frameLength?: number }): Buffer {
  const channelConfiguration = CHANNELS_BY_CONFIGURATION.indexOf(fields.channels as 1);
  if (channelConfiguration <= 0) throw configError(`no channel configuration for ${fields.channels} channels`);
  if (!Number.isInteger(fields.objectType) || fields.objectType < 1 || fields.objectType > 95) throw configError(`object type ${fields.objectType}`);
  if (!Number.isInteger(fields.sampleRate) || fields.sampleRate < 1000 || fields.sampleRate >= 2 ** 24) throw configError(`sampling rate ${fields.sampleRate} Hz`);
  const writer = new BitWriter();
  if (fields.objectType < 31) {
    writer.write(fields.objectType, 5);
  } else {
    writer.write(31, 5);
    writer.write(fields.objectType - 32, 6);
  }
  const index = AAC_SAMPLE_RATES.indexOf(fields.sampleRate as 48000);
  if (index >= 0) {
    writer.write(index, 4);
  } else {
    writer.write(15, 4);
    writer.write(fields.sampleRate, 24);
  }
  writer.write(channelConfiguration, 4);
  if (GENERAL_AUDIO_TYPES.has(fields.objectType)) writer.write(fields.frameLength === 960 ? 0b100 : 0, 3);
  return writer.toBuffer();
}

/** The AAC track an AudioSpecificConfig describes: timestamps on the core sampling rate, the config kept for containers. */
export function aacTrack(config: Buffer): AudioTrack {
  const parsed = parseAudioSpecificConfig(config);
  return { kind: 'audio', codec: 'aac', clockRate: parsed.sampleRate, sampleRate: parsed.sampleRate, channels: parsed.channels, config };
}
