/**
 * A minimal live Matroska writer for ffmpeg's stdin: one video track, clusters of unknown size, one SimpleBlock per
 * frame with its timestamp. It lets the encoder receive the source's timing with the frames, which raw JPEG, H.264
 * or VP8 on a pipe cannot carry.
 */

export type MkvCodec = 'jpeg' | 'h264' | 'vp8';

const CODEC_ID: Record<MkvCodec, string> = { jpeg: 'V_MJPEG', h264: 'V_MPEG4/ISO/AVC', vp8: 'V_VP8' };
const UNKNOWN_SIZE = Buffer.from([0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
/** SimpleBlock times are 16-bit signed offsets from the cluster's time. */
const MAX_BLOCK_OFFSET_MS = 30_000;

function sizeVint(size: number): Buffer {
  const out = Buffer.alloc(8);
  out[0] = 0x01;
  out.writeUIntBE(Math.floor(size / 2 ** 24), 1, 3);
  out.writeUIntBE(size % 2 ** 24, 4, 4);
  return out;
}

function element(id: number, data: Buffer): Buffer {
  const idBytes = Buffer.alloc(4);
  idBytes.writeUInt32BE(id);
  const start = idBytes.findIndex((byte) => byte !== 0);
  return Buffer.concat([idBytes.subarray(start), sizeVint(data.length), data]);
}

function uint(id: number, value: number): Buffer {
  const data = Buffer.alloc(8);
  data.writeBigUInt64BE(BigInt(Math.max(0, Math.round(value))));
  const start = Math.min(7, data.findIndex((byte) => byte !== 0) === -1 ? 7 : data.findIndex((byte) => byte !== 0));
  return element(id, data.subarray(start));
}

function text(id: number, value: string): Buffer {
  return element(id, Buffer.from(value, 'latin1'));
}

function unknownSize(id: number): Buffer {
  const idBytes = Buffer.alloc(4);
  idBytes.writeUInt32BE(id);
  return Buffer.concat([idBytes, UNKNOWN_SIZE]);
}

export interface MkvTrackOptions {
  readonly codec: MkvCodec;
  /** H.264 only: the AVCDecoderConfigurationRecord. */
  readonly codecPrivate?: Buffer;
  readonly width?: number;
  readonly height?: number;
  /** The nominal time between frames, ms (Matroska DefaultDuration): what ffmpeg takes as the track's frame rate. */
  readonly frameDurationMs?: number;
}

/** Writes the EBML header, segment info and the track; then `block()` for each frame. Timestamps in ms, increasing. */
export class MkvWriter {
  private clusterTime: number | undefined;

  constructor(private readonly track: MkvTrackOptions) {}

  header(): Buffer {
    const ebml = element(0x1a45dfa3, Buffer.concat([
      uint(0x4286, 1), uint(0x42f7, 1), uint(0x42f2, 4), uint(0x42f3, 8),
      text(0x4282, 'matroska'), uint(0x4287, 4), uint(0x4285, 2),
    ]));
    const info = element(0x1549a966, Buffer.concat([uint(0x2ad7b1, 1_000_000), text(0x4d80, 'relay'), text(0x5741, 'relay')]));
    const video: Buffer[] = [];
    if (this.track.width) video.push(uint(0xb0, this.track.width));
    if (this.track.height) video.push(uint(0xba, this.track.height));
    const entry = [uint(0xd7, 1), uint(0x73c5, 1), uint(0x83, 1), text(0x86, CODEC_ID[this.track.codec])];
    if (this.track.frameDurationMs) entry.push(uint(0x23e383, this.track.frameDurationMs * 1_000_000));
    if (this.track.codecPrivate) entry.push(element(0x63a2, this.track.codecPrivate));
    if (video.length > 0) entry.push(element(0xe0, Buffer.concat(video)));
    const tracks = element(0x1654ae6b, element(0xae, Buffer.concat(entry)));
    return Buffer.concat([ebml, unknownSize(0x18538067), info, tracks]);
  }

  /** One frame; opens a new cluster at keyframes and when the offset would overflow. */
  block(data: Buffer, timestampMs: number, keyframe: boolean): Buffer {
    const time = Math.max(0, Math.round(timestampMs));
    const parts: Buffer[] = [];
    if (this.clusterTime === undefined || keyframe || time - this.clusterTime > MAX_BLOCK_OFFSET_MS || time < this.clusterTime) {
      this.clusterTime = time;
      parts.push(unknownSize(0x1f43b675), uint(0xe7, time));
    }
    const head = Buffer.alloc(4);
    head[0] = 0x81; // track number 1 as a vint
    head.writeInt16BE(time - this.clusterTime, 1);
    head[3] = keyframe ? 0x80 : 0x00;
    parts.push(element(0xa3, Buffer.concat([head, data])));
    return Buffer.concat(parts);
  }
}
