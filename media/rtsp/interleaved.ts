import { ByteBuffer } from '../../lib/byte-buffer.ts';
import { ProtocolError } from '../errors.ts';
import { parseMessage, RTSP_LIMITS, type RtspMessage } from './message.ts';

/** The largest interleaved frame: its length field is 16 bits, so this is the format's own maximum. */
export const MAX_INTERLEAVED_BYTES = 0xffff;

/** What the RTSP TCP connection carries: RTSP messages and `$`-framed binary data (RTP/RTCP) on numbered channels. */
export type StreamItem =
  | { readonly kind: 'message'; readonly message: RtspMessage }
  | { readonly kind: 'data'; readonly channel: number; readonly payload: Buffer };

const DOLLAR = 0x24;
const CR = 0x0d;
const LF = 0x0a;

/** Most bytes ever held: one largest RTSP message, or one largest interleaved frame plus its 4-byte header. */
export const MAX_BUFFERED_BYTES = RTSP_LIMITS.maxHeaderBytes + 4 + RTSP_LIMITS.maxBodyBytes;

/**
 * Splits the bytes of an RTSP TCP connection into messages and interleaved frames (RFC 2326 section 10.12).
 * Incremental: feed each chunk as it arrives; memory stays under MAX_BUFFERED_BYTES whatever the peer sends.
 */
export class InterleavedDemuxer {
  private readonly pending = new ByteBuffer(16 * 1024);

  /** Feeds bytes; returns every whole item they complete. Throws ProtocolError on malformed input. */
  push(chunk: Buffer): StreamItem[] {
    this.pending.append(chunk);
    const items: StreamItem[] = [];
    for (;;) {
      this.skipBlankLines();
      if (this.pending.length === 0) break;
      const item = this.pending.byteAt(0) === DOLLAR ? this.takeFrame() : this.takeMessage();
      if (!item) break;
      items.push(item);
    }
    if (this.pending.length > MAX_BUFFERED_BYTES) {
      throw new ProtocolError(`RTSP: more than ${MAX_BUFFERED_BYTES} bytes buffered without a whole message`);
    }
    return items;
  }

  /** Bytes held for an unfinished item. */
  get bufferedBytes(): number {
    return this.pending.length;
  }

  /** Some servers send a stray CRLF between messages; it carries nothing. */
  private skipBlankLines(): void {
    let count = 0;
    while (count < this.pending.length) {
      const byte = this.pending.byteAt(count);
      if (byte !== CR && byte !== LF) break;
      count++;
    }
    this.pending.skip(count);
  }

  private takeFrame(): StreamItem | undefined {
    if (this.pending.length < 4) return undefined;
    const view = this.pending.view();
    const channel = view[1]!;
    const size = view.readUInt16BE(2);
    if (this.pending.length < 4 + size) return undefined;
    this.pending.skip(4);
    return { kind: 'data', channel, payload: this.pending.take(size) };
  }

  private takeMessage(): StreamItem | undefined {
    const parsed = parseMessage(this.pending.view());
    if (!parsed) return undefined;
    this.pending.skip(parsed.length);
    return { kind: 'message', message: parsed.message };
  }
}

/** Wraps an RTP or RTCP packet for sending on an interleaved channel; throws if it cannot fit the 16-bit length. */
export function frameInterleaved(channel: number, payload: Buffer): Buffer {
  if (channel < 0 || channel > 255 || payload.length > MAX_INTERLEAVED_BYTES) {
    throw new ProtocolError('RTSP: interleaved frame out of range');
  }
  const header = Buffer.from([DOLLAR, channel, payload.length >> 8, payload.length & 0xff]);
  return Buffer.concat([header, payload]);
}
