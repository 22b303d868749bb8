import type { BodySink } from './http-reader.ts';

const FLV_HEADER_BYTES = 13;
const TAG_HEAD_BYTES = 11;
const FLV_SIGNATURE = Buffer.from('FLV', 'latin1');
/** Larger tags mean the stream is not FLV (or the reader lost sync): a 1 Mbit/s keyframe is ~100 KB. */
const MAX_TAG_BYTES = 16 * 1024 * 1024;

/** What the bench needs of one FLV tag. */
export interface TagInfo {
  readonly type: number;
  readonly timestamp: number;
  readonly keyframe: boolean;
  /** An AVC sequence header (codec configuration), not a picture. */
  readonly config: boolean;
}

/**
 * Walks FLV tags by their sizes without copying their data: only the 11-byte tag head and the first two data bytes
 * are read. A tag is reported when its last data byte arrives.
 */
export class FlvTagWalker implements BodySink {
  failure: string | undefined;
  private headerLeft = FLV_HEADER_BYTES;
  private readonly scratch = Buffer.alloc(TAG_HEAD_BYTES + 2);
  private filled = 0;
  private want = TAG_HEAD_BYTES;
  private dataLeft = 0;
  private current: TagInfo | undefined;

  constructor(private readonly onTag: (tag: TagInfo, at: number) => void) {}

  push(bytes: Buffer, at: number): void {
    let offset = 0;
    while (offset < bytes.length && !this.failure) {
      if (this.headerLeft > 0) {
        const signatureAt = FLV_HEADER_BYTES - this.headerLeft;
        if (signatureAt < 3 && bytes[offset] !== FLV_SIGNATURE[signatureAt]) {
          this.failure = 'not an FLV stream';
          return;
        }
        const skip = signatureAt < 3 ? 1 : Math.min(this.headerLeft, bytes.length - offset);
        this.headerLeft -= skip;
        offset += skip;
        continue;
      }
      if (this.dataLeft > 0) {
        const skip = Math.min(this.dataLeft, bytes.length - offset);
        this.dataLeft -= skip;
        offset += skip;
        if (this.dataLeft === 0) this.finishTag(at);
      } else {
        const take = Math.min(this.want - this.filled, bytes.length - offset);
        bytes.copy(this.scratch, this.filled, offset, offset + take);
        this.filled += take;
        offset += take;
        if (this.filled === this.want) this.readHead(at);
      }
    }
  }

  /** Called with 11 head bytes, then again with the 2 first data bytes for a video tag. */
  private readHead(at: number): void {
    const type = this.scratch[0]! & 0x1f;
    const size = this.scratch.readUIntBE(1, 3);
    if (this.want === TAG_HEAD_BYTES) {
      if ((type !== 8 && type !== 9 && type !== 18) || size > MAX_TAG_BYTES) {
        this.failure = `bad FLV tag (type ${type}, ${size} bytes)`;
        return;
      }
      if (type === 9 && size >= 2) {
        this.want = TAG_HEAD_BYTES + 2;
        return;
      }
    }
    const timestamp = this.scratch.readUIntBE(4, 3) + this.scratch[7]! * 0x1000000;
    const video = this.want > TAG_HEAD_BYTES;
    this.current = {
      type,
      timestamp,
      keyframe: video && this.scratch[TAG_HEAD_BYTES]! >> 4 === 1,
      config: video && this.scratch[TAG_HEAD_BYTES + 1] === 0,
    };
    // The rest of the data and the 4-byte previous-tag-size that follows every tag.
    this.dataLeft = size - (this.want - TAG_HEAD_BYTES) + 4;
    this.filled = 0;
    this.want = TAG_HEAD_BYTES;
    if (this.dataLeft === 0) this.finishTag(at);
  }

  private finishTag(at: number): void {
    const tag = this.current;
    this.current = undefined;
    if (tag) this.onTag(tag, at);
  }
}
