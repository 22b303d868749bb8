import { ProtocolError } from '../errors.ts';
import { quantizationTablesForQ, STANDARD_HUFFMAN_TABLES } from '../jpeg/tables.ts';
import type { RtpPacket } from './rtp.ts';

/** A whole JPEG image rebuilt from RTP/JPEG packets, with the RTP timestamp it carried. */
export interface JpegImage {
  readonly data: Buffer;
  readonly rtpTimestamp: number;
}

/** What the first packet of an image says about it (RFC 2435 section 3.1). */
interface ImageHeader {
  readonly type: number;
  readonly width: number;
  readonly height: number;
  readonly restartInterval: number;
  readonly tables: Buffer;
  /** Bit i set: table i has 16-bit entries. */
  readonly precision: number;
}

/** Bytes of quantization table `id`: 64 entries of one byte, or of two when its precision bit is set. */
function tableSize(precision: number, id: number): number {
  return (precision >> id) & 1 ? 128 : 64;
}

function segment(marker: number, body: Buffer): Buffer {
  const header = Buffer.alloc(4);
  header.writeUInt16BE(0xff00 | marker, 0);
  header.writeUInt16BE(body.length + 2, 2);
  return Buffer.concat([header, body]);
}

/** Builds SOI..SOS for an RTP/JPEG image (RFC 2435 appendix B), so the scan data that follows decodes as a JFIF file. */
export function buildJpegHeader(header: ImageHeader): Buffer {
  const parts: Buffer[] = [Buffer.from([0xff, 0xd8])];
  parts.push(segment(0xe0, Buffer.from([0x4a, 0x46, 0x49, 0x46, 0x00, 1, 1, 0, 0, 1, 0, 1, 0, 0])));
  const tableCount = header.tables.length >= tableSize(header.precision, 0) + tableSize(header.precision, 1) ? 2 : 1;
  let offset = 0;
  for (let id = 0; id < tableCount; id++) {
    const wide = (header.precision >> id) & 1;
    const size = tableSize(header.precision, id);
    parts.push(segment(0xdb, Buffer.concat([Buffer.from([(wide << 4) | id]), header.tables.subarray(offset, offset + size)])));
    offset += size;
  }
  if (header.restartInterval > 0) parts.push(segment(0xdd, Buffer.from([header.restartInterval >> 8, header.restartInterval & 0xff])));
  const chromaTable = tableCount === 2 ? 1 : 0;
  const lumaSampling = (header.type & 0x3f) === 0 ? 0x21 : 0x22; // type 0 is 4:2:2, type 1 is 4:2:0
  const sof = Buffer.from([8, 0, 0, 0, 0, 3, 1, lumaSampling, 0, 2, 0x11, chromaTable, 3, 0x11, chromaTable]);
  sof.writeUInt16BE(header.height, 1);
  sof.writeUInt16BE(header.width, 3);
  parts.push(segment(0xc0, sof));
  for (const table of STANDARD_HUFFMAN_TABLES) {
    parts.push(segment(0xc4, Buffer.from([(table.tableClass << 4) | table.id, ...table.counts, ...table.symbols])));
  }
  parts.push(segment(0xda, Buffer.from([3, 1, 0x00, 2, 0x11, 3, 0x11, 0, 63, 0])));
  return Buffer.concat(parts);
}

/**
 * Rebuilds JPEG images from RTP/JPEG packets (RFC 2435): types 0/1 and their restart-marker forms 64/65, Q factors
 * 1..99 and in-band tables (Q 128..255). Fragments must arrive at the offsets they claim; a gap or a malformed packet
 * drops that one image.
 */
export class JpegDepacketizer {
  private fragments: Buffer[] = [];
  private assembled = 0;
  private header: ImageHeader | undefined;
  private timestamp: number | undefined;
  private damaged = false;
  /** In-band tables by Q: for Q 128..254 a sender may send them once and then leave them out (length 0). */
  private readonly tablesByQ = new Map<number, { tables: Buffer; precision: number }>();
  /** Images dropped because packets were lost or malformed. */
  droppedImages = 0;

  constructor(private readonly maxFrameBytes: number) {}

  /** Bytes held for the image in progress. */
  get bufferedBytes(): number {
    return this.assembled;
  }

  /** Packets went missing before the next one: the image they belonged to cannot be rebuilt. */
  markLoss(): void {
    this.damaged = true;
  }

  /** Feeds one packet in sequence order; returns the image it completes, if any. */
  push(packet: RtpPacket): JpegImage[] {
    if (this.timestamp !== undefined && packet.timestamp !== this.timestamp) this.reset(true);
    this.timestamp = packet.timestamp;
    this.addPacket(packet.payload);
    if (!packet.marker) return [];
    const image = this.finish();
    this.reset(false);
    return image ? [{ data: image, rtpTimestamp: packet.timestamp }] : [];
  }

  private reset(dropping: boolean): void {
    if (dropping && (this.fragments.length > 0 || this.damaged)) this.droppedImages++;
    this.fragments = [];
    this.assembled = 0;
    this.header = undefined;
    this.timestamp = undefined;
    this.damaged = false;
  }

  private addPacket(payload: Buffer): void {
    if (payload.length < 8) return void (this.damaged = true);
    const fragmentOffset = payload.readUIntBE(1, 3);
    const type = payload[4]!;
    const q = payload[5]!;
    let offset = 8;
    if ((type & 0x3f) > 1 || type > 127) {
      throw new ProtocolError(`RTP/JPEG: unsupported type ${type}`);
    }
    let restartInterval = 0;
    if (type >= 64) {
      if (payload.length < offset + 4) return void (this.damaged = true);
      restartInterval = payload.readUInt16BE(offset);
      offset += 4;
    }
    if (fragmentOffset === 0) {
      if (this.fragments.length > 0) this.damaged = true;
      const tables = this.readTables(payload, q, offset);
      if (!tables) return void (this.damaged = true);
      offset = tables.end;
      const width = payload[6]! * 8;
      const height = payload[7]! * 8;
      if (width === 0 || height === 0) return void (this.damaged = true);
      this.header = { type, width, height, restartInterval, tables: tables.tables, precision: tables.precision };
    } else if (fragmentOffset !== this.assembled) {
      return void (this.damaged = true);
    }
    const data = payload.subarray(offset);
    this.assembled += data.length;
    if (this.assembled > this.maxFrameBytes) {
      throw new ProtocolError(`RTP/JPEG: image larger than ${this.maxFrameBytes} bytes`);
    }
    this.fragments.push(data);
  }

  /** Reads the quantization table header of a first fragment, or makes the tables from Q. */
  private readTables(payload: Buffer, q: number, offset: number): { tables: Buffer; precision: number; end: number } | undefined {
    if (q === 0 || (q >= 100 && q < 128)) return undefined; // reserved values
    if (q < 128) return { tables: quantizationTablesForQ(q), precision: 0, end: offset };
    if (payload.length < offset + 4) return undefined;
    const precision = payload[offset + 1]!;
    const length = payload.readUInt16BE(offset + 2);
    const start = offset + 4;
    if (length === 0) {
      const cached = this.tablesByQ.get(q);
      return cached && q !== 255 ? { ...cached, end: start } : undefined;
    }
    const one = tableSize(precision, 0);
    if (length !== one && length !== one + tableSize(precision, 1)) return undefined;
    if (payload.length < start + length) return undefined;
    const tables = Buffer.from(payload.subarray(start, start + length));
    if (q !== 255) this.tablesByQ.set(q, { tables, precision });
    return { tables, precision, end: start + length };
  }

  private finish(): Buffer | undefined {
    if (this.damaged || !this.header || this.fragments.length === 0) {
      if (this.fragments.length > 0 || this.damaged) this.droppedImages++;
      return undefined;
    }
    const scan = Buffer.concat(this.fragments, this.assembled);
    const endsWithEoi = scan.length >= 2 && scan[scan.length - 2] === 0xff && scan[scan.length - 1] === 0xd9;
    const parts = [buildJpegHeader(this.header), scan];
    if (!endsWithEoi) parts.push(Buffer.from([0xff, 0xd9]));
    return Buffer.concat(parts);
  }
}
