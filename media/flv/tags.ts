import { ByteBuffer } from '../../lib/byte-buffer.ts';

/** FLV tag types (FLV spec, "FLV tags"). */
export const FlvTagType = { audio: 8, video: 9, script: 18 } as const;

/** One FLV tag as bytes ready to send: the 11-byte header, its data and the trailing PreviousTagSize. */
export interface FlvTag {
  readonly type: number;
  readonly timestamp: number;
  readonly keyframe: boolean;
  /** An AVC or AAC sequence header (codec configuration), which every viewer needs before any frame of its track. */
  readonly sequenceHeader: boolean;
  readonly bytes: Buffer;
}

const FILE_HEADER_SIZE = 9 + 4;
const TAG_HEADER_SIZE = 11;
const MAX_TAG_SIZE = 16 * 1024 * 1024;

/** Thrown when ffmpeg's FLV output cannot be parsed; the transcoder restarts ffmpeg. */
export class FlvParseError extends Error {
  override readonly name = 'FlvParseError';
}

/**
 * Incremental FLV demuxer for ffmpeg's stdout: yields the file header once, then whole tags.
 * Tags are sliced out as copies so each can be held in the GOP cache and written to many sockets.
 */
export class FlvTagReader {
  private readonly pending = new ByteBuffer(256 * 1024);
  header: Buffer | undefined;

  /** `maxTagBytes` bounds one tag's data, and so the memory an upstream can make this reader hold. */
  constructor(private readonly maxTagBytes = MAX_TAG_SIZE) {}

  /** Bytes held of a tag (or header) not yet complete: non-zero when a stream ends in the middle of one. */
  get pendingBytes(): number {
    return this.pending.length;
  }

  push(chunk: Buffer): FlvTag[] {
    this.pending.append(chunk);
    if (!this.header) {
      if (this.pending.length < FILE_HEADER_SIZE) return [];
      const view = this.pending.view();
      if (view.toString('latin1', 0, 3) !== 'FLV') throw new FlvParseError('output does not start with an FLV header');
      const headerSize = view.readUInt32BE(5);
      if (headerSize !== 9) throw new FlvParseError(`unexpected FLV header size ${headerSize}`);
      this.header = this.pending.take(FILE_HEADER_SIZE);
    }
    const tags: FlvTag[] = [];
    while (this.pending.length >= TAG_HEADER_SIZE) {
      const view = this.pending.view();
      const dataSize = view.readUIntBE(1, 3);
      if (dataSize > this.maxTagBytes) throw new FlvParseError(`FLV tag of ${dataSize} bytes is larger than the ${this.maxTagBytes} byte limit`);
      const total = TAG_HEADER_SIZE + dataSize + 4;
      if (this.pending.length < total) break;
      const type = view[0]! & 0x1f;
      const timestamp = (view.readUIntBE(4, 3) | (view[7]! << 24)) >>> 0;
      const first = dataSize > 0 ? view[TAG_HEADER_SIZE]! : 0;
      const isVideo = type === FlvTagType.video;
      const isAvc = isVideo && (first & 0x0f) === 7;
      const isAac = type === FlvTagType.audio && first >> 4 === 10;
      const sequenceHeader = (isAvc || isAac) && dataSize > 1 && view[TAG_HEADER_SIZE + 1] === 0;
      const keyframe = isVideo && first >> 4 === 1 && !sequenceHeader;
      tags.push({ type, timestamp, keyframe, sequenceHeader, bytes: this.pending.take(total) });
    }
    return tags;
  }
}
