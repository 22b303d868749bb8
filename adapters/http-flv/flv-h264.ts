import type { AudioUnit } from '../types.ts';
import type { H264Unit } from '../../media/types.ts';
import { LenientFlvAudioReader } from '../../media/flv/audio.ts';
import { AdapterError } from '../errors.ts';
import { FlvParseError, FlvTagReader, FlvTagType } from '../../media/flv/tags.ts';
import { FlvFrameReader } from '../../media/flv/frames.ts';

const AVC_CODEC_ID = 7;
/** The FLV header's flags byte: bit 0 announces video. */
const HAS_VIDEO_FLAG = 0x01;
/** The "enhanced RTMP" video tag header (HEVC, AV1, VP9 by FourCC) sets the top bit of the first byte. */
const EX_VIDEO_HEADER_BIT = 0x80;
/** Room for the tag's own header bytes (codec, packet type, composition time) on top of the largest frame. */
const TAG_OVERHEAD_BYTES = 64;

/** FLV video codec ids (FLV spec E.4.3.1) named in errors, so an operator sees what the origin sent. */
const VIDEO_CODECS: Record<number, string> = { 2: 'Sorenson H.263', 3: 'Screen video', 4: 'On2 VP6', 5: 'On2 VP6 with alpha', 6: 'Screen video 2', 12: 'HEVC' };

/**
 * Turns an HTTP-FLV body (another relay's FLV stream, or any H.264 FLV) into H.264 units, incrementally: chunks go in
 * as they arrive, whole access units come out. AAC and G.711 audio tags become audio units on the same clock (the tags'
 * times) through `onAudio`; other audio and metadata are skipped. Anything that is not FLV carrying H.264
 * throws an AdapterError PROTOCOL that says what was wrong; no tag may exceed `maxFrameBytes`.
 */
export class FlvH264Reader {
  private readonly tags: FlvTagReader;
  private readonly frames = new FlvFrameReader();
  private readonly audio: LenientFlvAudioReader;
  private checkedHeader = false;
  /** Tags skipped because they carry metadata or audio the relay does not read (or audio with no one to take it). */
  skippedTags = 0;

  constructor(
    maxFrameBytes: number,
    private readonly onAudio?: (unit: AudioUnit) => void,
    onAudioLeftOut?: (reason: string) => void,
  ) {
    this.tags = new FlvTagReader(maxFrameBytes + TAG_OVERHEAD_BYTES);
    this.audio = new LenientFlvAudioReader('the FLV stream\'s sound', onAudioLeftOut);
  }

  /** Why the sound was left out (a bad AAC configuration): the picture goes on without it. */
  get audioLeftOut(): string | undefined {
    return this.audio.leftOut;
  }

  /** True when the bytes so far end in the middle of the header or a tag. */
  get midTag(): boolean {
    return this.tags.pendingBytes > 0;
  }

  /** True once a sequence header gave the stream's SPS and PPS. */
  get hasTrack(): boolean {
    return this.frames.track !== undefined;
  }

  push(chunk: Buffer): H264Unit[] {
    const out: H264Unit[] = [];
    try {
      for (const tag of this.tags.push(chunk)) {
        this.checkHeader();
        if (tag.type !== FlvTagType.video) {
          const unit = this.onAudio ? this.audio.read(tag) : undefined;
          if (unit) this.onAudio!(unit);
          else if (!tag.sequenceHeader || !this.onAudio || this.audioLeftOut) this.skippedTags++;
          continue;
        }
        checkVideoCodec(tag.bytes);
        const frame = this.frames.read(tag);
        if (frame) out.push(frame);
      }
      if (this.tags.header) this.checkHeader();
    } catch (error) {
      if (error instanceof AdapterError) throw error;
      const reason = error instanceof FlvParseError ? error.message.replace(/^output /, 'the stream ') : `bad H.264 in FLV: ${(error as Error).message}`;
      throw new AdapterError('PROTOCOL', reason, { cause: error });
    }
    return out;
  }

  private checkHeader(): void {
    if (this.checkedHeader || !this.tags.header) return;
    this.checkedHeader = true;
    const flags = this.tags.header[4]!;
    if ((flags & HAS_VIDEO_FLAG) === 0) throw new AdapterError('PROTOCOL', 'the FLV stream announces no video');
  }
}

/** Throws unless a video tag carries H.264 (AVC), naming the codec it does carry. */
function checkVideoCodec(tagBytes: Buffer): void {
  if (tagBytes.length <= 11 + 4) throw new AdapterError('PROTOCOL', 'empty FLV video tag');
  const first = tagBytes[11]!;
  if (first & EX_VIDEO_HEADER_BIT) {
    const fourCc = tagBytes.toString('latin1', 12, 16).replace(/[^\x20-\x7e]/g, '?');
    throw new AdapterError('PROTOCOL', `the FLV stream carries ${fourCc} video (enhanced FLV), not H.264`);
  }
  const codecId = first & 0x0f;
  if (codecId !== AVC_CODEC_ID) {
    const name = VIDEO_CODECS[codecId] ?? 'an unknown codec';
    throw new AdapterError('PROTOCOL', `the FLV stream carries ${name} video (codec id ${codecId}), not H.264`);
  }
}
