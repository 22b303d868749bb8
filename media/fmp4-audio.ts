import { ProtocolError } from './errors.ts';
import { box, fullBox, u32, UNITY_MATRIX } from './mp4-boxes.ts';
import type { AudioTrack } from './types.ts';

/** Opus decoders skip this many 48 kHz samples at the start (libopus's usual encoder delay), as dOps tells them. */
const OPUS_PRE_SKIP = 312;

/** An MPEG-4 descriptor (ISO/IEC 14496-1 8.3.3): tag, a one-byte size (all of ours are small), body. */
function descriptor(tag: number, ...body: Buffer[]): Buffer {
  const content = Buffer.concat(body);
  if (content.length > 127) throw new ProtocolError(`MP4: descriptor of ${content.length} bytes`);
  return Buffer.concat([Buffer.from([tag, content.length]), content]);
}

/** The esds box: an ES descriptor whose decoder config says MPEG-4 Audio and holds the AudioSpecificConfig. */
function esds(config: Buffer): Buffer {
  const decoderConfig = descriptor(0x04, Buffer.from([0x40, 0x15, 0, 0, 0]), u32(0, 0), descriptor(0x05, config));
  return fullBox('esds', 0, 0, descriptor(0x03, Buffer.from([0, 0, 0]), decoderConfig, descriptor(0x06, Buffer.from([0x02]))));
}

/** The Opus specific box (Opus in ISO BMFF, 4.3.2): version, channels, pre-skip, input rate, gain, mapping family 0. */
function dOps(track: AudioTrack): Buffer {
  const body = Buffer.alloc(11);
  body[0] = 0;
  body[1] = track.channels;
  body.writeUInt16BE(OPUS_PRE_SKIP, 2);
  body.writeUInt32BE(track.sampleRate, 4);
  body.writeInt16BE(0, 8);
  body[10] = 0;
  return box('dOps', body);
}

/** The audio sample entry (mp4a with esds, or Opus with dOps). */
function sampleEntry(track: AudioTrack): Buffer {
  const entry = Buffer.alloc(28);
  entry.writeUInt16BE(1, 6); // data_reference_index
  entry.writeUInt16BE(track.channels, 16);
  entry.writeUInt16BE(16, 18); // samplesize
  entry.writeUInt32BE(track.sampleRate > 0xffff ? 0 : track.sampleRate * 0x10000, 24); // 16.16; rates over 65535 are in the codec config
  if (track.codec === 'aac') {
    if (!track.config) throw new ProtocolError('MP4: an AAC track without its AudioSpecificConfig');
    return box('mp4a', entry, esds(track.config));
  }
  if (track.codec === 'opus') return box('Opus', entry, dOps(track));
  throw new ProtocolError(`MP4: cannot carry ${track.codec} audio without conversion to AAC`);
}

/** The trak of an audio track whose media timescale is its sampling rate (`dinf` is shared with the video track). */
export function audioTrak(track: AudioTrack, trackId: number, dinf: Buffer): Buffer {
  const tkhd = fullBox('tkhd', 0, 0x3, u32(0, 0, trackId, 0, 0), u32(0, 0), Buffer.from([0, 0, 0, 1, 0x01, 0x00, 0, 0]), UNITY_MATRIX, u32(0, 0));
  const mdhd = fullBox('mdhd', 0, 0, u32(0, 0, track.sampleRate, 0), Buffer.from([0x55, 0xc4, 0, 0])); // language 'und'
  const hdlr = fullBox('hdlr', 0, 0, u32(0), Buffer.from('soun', 'latin1'), u32(0, 0, 0), Buffer.from('Sound\0', 'latin1'));
  const stbl = box('stbl',
    fullBox('stsd', 0, 0, u32(1), sampleEntry(track)),
    fullBox('stts', 0, 0, u32(0)),
    fullBox('stsc', 0, 0, u32(0)),
    fullBox('stsz', 0, 0, u32(0, 0)),
    fullBox('stco', 0, 0, u32(0)));
  const minf = box('minf', fullBox('smhd', 0, 0, u32(0)), dinf, stbl);
  return box('trak', tkhd, box('mdia', mdhd, hdlr, minf));
}
