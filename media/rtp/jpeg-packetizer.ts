import { STANDARD_HUFFMAN_TABLES } from '../jpeg/tables.ts';
import { MAX_RTP_PAYLOAD, type RtpPayload } from './packet.ts';

/** Why a JPEG cannot travel as RTP/JPEG (RFC 2435 carries only a subset of baseline JPEG). */
export type JpegSkipReason = 'malformed' | 'not-baseline' | 'components' | 'sampling' | 'tables' | 'huffman' | 'size';

/** A JPEG reduced to what an RTP/JPEG receiver rebuilds it from: type, size in 8-pixel units, tables and scan data. */
export interface RtpJpegImage {
  /** 0 (4:2:2) or 1 (4:2:0), plus 64 when restart markers are in the scan. */
  readonly type: number;
  readonly widthBlocks: number;
  readonly heightBlocks: number;
  readonly restartInterval: number;
  /** Luma then chroma quantization table, 64 bytes each, zigzag order as DQT holds them. */
  readonly tables: Buffer;
  /** The entropy-coded scan, restart markers included, without EOI. */
  readonly scan: Buffer;
}

interface Component {
  readonly sampling: number;
  readonly table: number;
}

/** The largest scan the 24-bit fragment offset can address. */
const MAX_SCAN_BYTES = 0xffffff;

/** True when a DHT table is the ITU T.81 K.3-K.6 table of its class and id, the only ones RTP/JPEG receivers know. */
function isStandardHuffman(tableClass: number, id: number, counts: Buffer, symbols: Buffer): boolean {
  const standard = STANDARD_HUFFMAN_TABLES.find((table) => table.tableClass === tableClass && table.id === id);
  if (!standard || symbols.length !== standard.symbols.length) return false;
  return counts.every((count, index) => count === standard.counts[index]) && symbols.every((symbol, index) => symbol === standard.symbols[index]);
}

/**
 * Reads a JPEG into RTP/JPEG terms, or says why it cannot be carried: progressive or 12-bit coding, other than three
 * components, sampling other than 4:2:0 or 4:2:2, 16-bit tables, Huffman tables other than the standard ones, sizes
 * over 2040 pixels. Never throws; bounded by the input's length.
 */
export function parseJpegForRtp(jpeg: Buffer): RtpJpegImage | { skip: JpegSkipReason } {
  if (jpeg.length < 4 || jpeg[0] !== 0xff || jpeg[1] !== 0xd8) return { skip: 'malformed' };
  const quantTables = new Map<number, Buffer>();
  let components: Component[] | undefined;
  let width = 0;
  let height = 0;
  let restartInterval = 0;
  let offset = 2;
  while (offset + 4 <= jpeg.length) {
    if (jpeg[offset] !== 0xff) return { skip: 'malformed' };
    const marker = jpeg[offset + 1]!;
    if (marker === 0xff) {
      offset++; // fill byte
      continue;
    }
    const length = jpeg.readUInt16BE(offset + 2);
    const body = offset + 4;
    const end = offset + 2 + length;
    if (length < 2 || end > jpeg.length) return { skip: 'malformed' };
    const segment = jpeg.subarray(body, end);
    if (marker === 0xdb) {
      for (let at = 0; at < segment.length; ) {
        const precision = segment[at]! >> 4;
        const id = segment[at]! & 0x0f;
        if (precision !== 0) return { skip: 'tables' };
        if (at + 65 > segment.length) return { skip: 'malformed' };
        quantTables.set(id, segment.subarray(at + 1, at + 65));
        at += 65;
      }
    } else if (marker === 0xc0) {
      if (segment.length < 6 || segment[0] !== 8) return { skip: 'not-baseline' };
      height = segment.readUInt16BE(1);
      width = segment.readUInt16BE(3);
      const count = segment[5]!;
      if (count !== 3) return { skip: 'components' };
      if (segment.length < 6 + count * 3) return { skip: 'malformed' };
      components = [0, 1, 2].map((index) => ({ sampling: segment[7 + index * 3]!, table: segment[8 + index * 3]! }));
    } else if (marker >= 0xc1 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      return { skip: 'not-baseline' };
    } else if (marker === 0xc4) {
      for (let at = 0; at < segment.length; ) {
        if (at + 17 > segment.length) return { skip: 'malformed' };
        const counts = segment.subarray(at + 1, at + 17);
        const total = counts.reduce((sum, count) => sum + count, 0);
        if (at + 17 + total > segment.length) return { skip: 'malformed' };
        if (!isStandardHuffman(segment[at]! >> 4, segment[at]! & 0x0f, counts, segment.subarray(at + 17, at + 17 + total))) return { skip: 'huffman' };
        at += 17 + total;
      }
    } else if (marker === 0xdd) {
      if (segment.length < 2) return { skip: 'malformed' };
      restartInterval = segment.readUInt16BE(0);
    } else if (marker === 0xda) {
      return finish(jpeg, segment, end, { quantTables, components, width, height, restartInterval });
    } else if (marker === 0xd9) {
      return { skip: 'malformed' };
    }
    offset = end;
  }
  return { skip: 'malformed' };
}

function finish(
  jpeg: Buffer,
  scanHeader: Buffer,
  scanStart: number,
  found: { quantTables: Map<number, Buffer>; components: Component[] | undefined; width: number; height: number; restartInterval: number },
): RtpJpegImage | { skip: JpegSkipReason } {
  const { quantTables, components, width, height, restartInterval } = found;
  if (!components) return { skip: 'malformed' };
  // The receiver writes its own scan header: luma on DC/AC tables 0, both chroma components on tables 1.
  if (scanHeader.length < 10 || scanHeader[0] !== 3 || scanHeader[2] !== 0x00 || scanHeader[4] !== 0x11 || scanHeader[6] !== 0x11) {
    return { skip: 'huffman' };
  }
  const [luma, blue, red] = components as [Component, Component, Component];
  if (blue.sampling !== 0x11 || red.sampling !== 0x11 || (luma.sampling !== 0x21 && luma.sampling !== 0x22)) return { skip: 'sampling' };
  const lumaTable = quantTables.get(luma.table);
  const chromaTable = quantTables.get(blue.table);
  if (!lumaTable || !chromaTable || blue.table !== red.table) return { skip: 'tables' };
  const widthBlocks = Math.ceil(width / 8);
  const heightBlocks = Math.ceil(height / 8);
  if (widthBlocks === 0 || heightBlocks === 0 || widthBlocks > 255 || heightBlocks > 255) return { skip: 'size' };
  let scanEnd = jpeg.length;
  if (scanEnd >= scanStart + 2 && jpeg[scanEnd - 2] === 0xff && jpeg[scanEnd - 1] === 0xd9) scanEnd -= 2;
  if (scanEnd - scanStart > MAX_SCAN_BYTES) return { skip: 'size' };
  if (scanEnd <= scanStart) return { skip: 'malformed' };
  return {
    type: (luma.sampling === 0x21 ? 0 : 1) + (restartInterval > 0 ? 64 : 0),
    widthBlocks,
    heightBlocks,
    restartInterval,
    tables: Buffer.concat([lumaTable, chromaTable]),
    scan: jpeg.subarray(scanStart, scanEnd),
  };
}

/**
 * Cuts an image into RTP/JPEG payloads (RFC 2435): Q 255 with both quantization tables in the first packet, a restart
 * marker header in every packet of a type 64/65 image, the marker bit on the last.
 */
export function packetizeJpeg(image: RtpJpegImage, maxPayload = MAX_RTP_PAYLOAD): RtpPayload[] {
  const restart = image.restartInterval > 0;
  const out: RtpPayload[] = [];
  for (let offset = 0; offset < image.scan.length; ) {
    const head = Buffer.alloc(8 + (restart ? 4 : 0) + (offset === 0 ? 4 + image.tables.length : 0));
    head.writeUIntBE(offset, 1, 3);
    head[4] = image.type;
    head[5] = 255;
    head[6] = image.widthBlocks;
    head[7] = image.heightBlocks;
    let at = 8;
    if (restart) {
      head.writeUInt16BE(image.restartInterval, at);
      head.writeUInt16BE(0xffff, at + 2); // F=1, L=1, count 0x3fff: packets are not aligned to restart intervals
      at += 4;
    }
    if (offset === 0) {
      head.writeUInt16BE(image.tables.length, at + 2); // MBZ 0, precision 0 (8-bit tables)
      image.tables.copy(head, at + 4);
    }
    const room = Math.max(1, maxPayload - head.length);
    const data = image.scan.subarray(offset, offset + room);
    offset += data.length;
    out.push({ payload: Buffer.concat([head, data]), marker: offset >= image.scan.length });
  }
  return out;
}
