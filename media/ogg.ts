import { ByteBuffer } from '../lib/byte-buffer.ts';
import { ProtocolError } from './errors.ts';

/** One packet read from an Ogg stream (RFC 3533), with the granule position of the page it ends on. */
export interface OggPacket {
  readonly data: Buffer;
  /** The page's granule position (-1n when no packet ends on the page, which never holds for a packet returned). */
  readonly granule: bigint;
  readonly serial: number;
}

const CAPTURE = Buffer.from('OggS');
const HEADER_BYTES = 27;
/** The largest page: header, 255 lacing values, 255 segments of 255 bytes. */
const MAX_PAGE_BYTES = HEADER_BYTES + 255 + 255 * 255;
/** A packet spread over pages is dropped past this (an Opus packet is under 8 KB). */
export const MAX_OGG_PACKET_BYTES = 64 * 1024;

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let r = i << 24;
    for (let bit = 0; bit < 8; bit++) r = r & 0x80000000 ? (r << 1) ^ 0x04c11db7 : r << 1;
    table[i] = r >>> 0;
  }
  return table;
})();

/** The Ogg page checksum (CRC-32, polynomial 0x04c11db7, no reflection), over the page with its CRC field zeroed. */
function pageCrc(page: Buffer): number {
  let crc = 0;
  for (let i = 0; i < page.length; i++) {
    const byte = i >= 22 && i < 26 ? 0 : page[i]!;
    crc = ((crc << 8) ^ CRC_TABLE[((crc >>> 24) ^ byte) & 0xff]!) >>> 0;
  }
  return crc;
}

/**
 * Splits an Ogg byte stream (ffmpeg's `-f ogg` on a pipe) into packets. A page cut by the end of a chunk waits for the
 * next; bytes that are not a page whose checksum holds are skipped up to the next capture pattern. Holds at most one
 * page and one packet in progress between chunks.
 */
export class OggReader {
  private readonly pending = new ByteBuffer(MAX_PAGE_BYTES);
  private partial: Buffer[] = [];
  private partialBytes = 0;
  /** Bytes skipped while looking for a page. */
  skippedBytes = 0;
  /** Packets dropped: over MAX_OGG_PACKET_BYTES, or their start lost with a bad page. */
  droppedPackets = 0;

  get pendingBytes(): number {
    return this.pending.length;
  }

  push(chunk: Buffer): OggPacket[] {
    const packets: OggPacket[] = [];
    let rest = chunk;
    while (rest.length > 0) {
      // The buffer is bounded to one page: feed it in slices and read pages between them.
      const room = MAX_PAGE_BYTES - this.pending.length;
      this.pending.append(rest.subarray(0, room));
      rest = rest.subarray(room);
      this.readPages(packets);
    }
    return packets;
  }

  private readPages(packets: OggPacket[]): void {
    for (;;) {
      const view = this.pending.view();
      const start = view.indexOf(CAPTURE);
      if (start < 0) {
        // Keep the last 3 bytes: a capture pattern may be cut by the chunk's end.
        const keep = Math.min(view.length, CAPTURE.length - 1);
        this.skip(view.length - keep);
        return;
      }
      if (start > 0) {
        this.skip(start);
        continue;
      }
      const length = pageAt(view, 0);
      if (length === 'incomplete') {
        // A false capture pattern can claim up to 64 KB: a whole valid page further on shows it was not a page.
        const next = nextWholePage(view);
        if (next < 0) return;
        this.skip(next);
        this.dropPartial();
        continue;
      }
      if (length === 'bad') {
        // Not a page (a capture pattern inside other bytes, or damage): look for the next one.
        this.skip(1);
        this.dropPartial();
        continue;
      }
      const page = view.subarray(0, length);
      const lacing = page.subarray(HEADER_BYTES, HEADER_BYTES + page[26]!);
      this.readPage(page, lacing, packets);
      this.pending.skip(length);
    }
  }

  private readPage(page: Buffer, lacing: Buffer, packets: OggPacket[]): void {
    const continued = (page[5]! & 0x01) !== 0;
    if (!continued) this.dropPartial();
    const granule = page.readBigInt64LE(6);
    const serial = page.readUInt32LE(14);
    let offset = HEADER_BYTES + lacing.length;
    let segmentStart = offset;
    for (const value of lacing) {
      offset += value;
      if (value === 255) continue;
      this.addPartial(page.subarray(segmentStart, offset));
      segmentStart = offset;
      if (this.partialBytes > 0 && this.partialBytes <= MAX_OGG_PACKET_BYTES && this.partial.length > 0) {
        packets.push({ data: Buffer.concat(this.partial), granule, serial });
      }
      this.partial = [];
      this.partialBytes = 0;
    }
    // A packet going on to the next page.
    if (segmentStart < offset) this.addPartial(page.subarray(segmentStart, offset));
  }

  private addPartial(bytes: Buffer): void {
    this.partialBytes += bytes.length;
    if (this.partialBytes > MAX_OGG_PACKET_BYTES) {
      if (this.partial.length > 0) this.droppedPackets++;
      this.partial = [];
      return;
    }
    this.partial.push(Buffer.from(bytes));
  }

  private dropPartial(): void {
    if (this.partial.length > 0) this.droppedPackets++;
    this.partial = [];
    this.partialBytes = 0;
  }

  private skip(bytes: number): void {
    this.skippedBytes += bytes;
    this.pending.skip(bytes);
  }
}

/** The length of the page at `offset` of `view` when it is whole and its checksum holds. */
function pageAt(view: Buffer, offset: number): number | 'incomplete' | 'bad' {
  if (view.length - offset < HEADER_BYTES) return 'incomplete';
  if (view[offset + 4] !== 0) return 'bad';
  const segments = view[offset + 26]!;
  if (view.length - offset < HEADER_BYTES + segments) return 'incomplete';
  let bodyBytes = 0;
  for (let i = 0; i < segments; i++) bodyBytes += view[offset + HEADER_BYTES + i]!;
  const pageBytes = HEADER_BYTES + segments + bodyBytes;
  if (view.length - offset < pageBytes) return 'incomplete';
  return view.readUInt32LE(offset + 22) === pageCrc(view.subarray(offset, offset + pageBytes)) ? pageBytes : 'bad';
}

/** The offset of the first whole, valid page after the start of `view`; -1 when there is none yet. */
function nextWholePage(view: Buffer): number {
  for (let offset = view.indexOf(CAPTURE, 1); offset > 0; offset = view.indexOf(CAPTURE, offset + 1)) {
    if (typeof pageAt(view, offset) === 'number') return offset;
  }
  return -1;
}

/** What the relay reads of an Ogg Opus stream's identification header (RFC 7845 5.1). */
export interface OpusHead {
  readonly channels: number;
  /** Samples (at 48 kHz) the decoder drops at the start: the encoder's delay. */
  readonly preSkip: number;
}

/** Reads an OpusHead packet; undefined for any other packet; throws on a malformed one. */
export function readOpusHead(packet: Buffer): OpusHead | undefined {
  if (packet.length < 8 || packet.toString('latin1', 0, 8) !== 'OpusHead') return undefined;
  if (packet.length < 19) throw new ProtocolError(`OpusHead: ${packet.length} bytes, at least 19 expected`);
  if (packet[8]! >> 4 !== 0) throw new ProtocolError(`OpusHead: version ${packet[8]} is not supported`);
  const channels = packet[9]!;
  if (channels === 0) throw new ProtocolError('OpusHead: 0 channels');
  return { channels, preSkip: packet.readUInt16LE(10) };
}

/** True for the Ogg Opus comment header, which carries no sound. */
export function isOpusTags(packet: Buffer): boolean {
  return packet.length >= 8 && packet.toString('latin1', 0, 8) === 'OpusTags';
}
