import type { Size } from '../../conf/types.ts';
import type { ByteBuffer } from '../../lib/byte-buffer.ts';
import { AdapterError } from '../errors.ts';

/**
 * The Canon VB-C10 native video protocol (TCP 65310) as the one public client of it speaks it: a short text phase of
 * LF-terminated commands answered by NUL-terminated text, then binary "videograms" (8-byte header, then a payload).
 * No Canon document describes it, so every number here that is a guess is a parameter with the reference value as default.
 */

/** The video port of the VB-C10 family (65311 is camera control). */
export const VBC_DEFAULT_PORT = 65310;

/** Bytes in a videogram header: id, three bytes of unknown meaning (zero in requests), u32 BE payload length. */
export const VIDEOGRAM_HEADER_BYTES = 8;

/** The videogram ids this client knows by role; the setup ids' meanings are unknown. */
export const VideogramId = {
  /** A reply carrying one complete JPEG. */
  frame: 0x02,
  /** Asks for the next frame (also the first setup message). */
  frameRequest: 0x85,
  /** Requests an image size: u16 BE width, u16 BE height. */
  imageSize: 0x88,
} as const;

/** One binary message: `header` holds bytes 1-3 as a number (meaning unknown, kept for logs). */
export interface Videogram {
  readonly id: number;
  readonly header: number;
  readonly payload: Buffer;
}

/** Largest payloads accepted, by kind; the reference client rejects a frame over 2,000,000 and anything else over 1,000. */
export interface VideogramLimits {
  readonly maxFramePayload: number;
  readonly maxOtherPayload: number;
}

/** The reference client's limits. */
export const REFERENCE_LIMITS: VideogramLimits = { maxFramePayload: 2_000_000, maxOtherPayload: 1_000 };

/** The setup messages sent after START, in order, as the reference client sends them. */
export const REFERENCE_SETUP: readonly Videogram[] = [
  { id: 0x85, header: 0, payload: Buffer.alloc(0) },
  { id: 0x8c, header: 0, payload: Buffer.from([0x03, 0x0a, 0x0b, 0x0e]) },
  { id: 0x8d, header: 0, payload: Buffer.alloc(0) },
  { id: 0x87, header: 0, payload: Buffer.alloc(0) },
  { id: 0x91, header: 0, payload: Buffer.from([0x00, 0x00, 0x00, 0x00]) },
];

/** First command of the text phase. */
export const VERSION_COMMAND = Buffer.from('VERSION\n', 'latin1');

/** Last command of the text phase: the connection is binary after it. */
export const START_COMMAND = Buffer.from('START\n', 'latin1');

/**
 * The three lines the reference client sends together before reading one reply: `SUPER r` with the opaque login
 * bytes (an encoded credential of unknown encoding, sent as given), then `SET Mode Administrator` and `GET MUXCONF`.
 */
export function loginCommands(login: Buffer): Buffer {
  return Buffer.concat([
    Buffer.from('SUPER r', 'latin1'),
    login,
    Buffer.from('\nSET Mode Administrator\nGET MUXCONF\n', 'latin1'),
  ]);
}

/** Serialises a videogram: bytes 1-3 of a request are zero. */
export function encodeVideogram(id: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const out = Buffer.alloc(VIDEOGRAM_HEADER_BYTES + payload.length);
  out[0] = id & 0xff;
  out.writeUInt32BE(payload.length, 4);
  payload.copy(out, VIDEOGRAM_HEADER_BYTES);
  return out;
}

/** The frame request: `85 00 00 00 00 00 00 00`. */
export const FRAME_REQUEST = encodeVideogram(VideogramId.frameRequest);

/** The image size message (0x88); throws a RangeError for a size that does not fit two u16 fields. */
export function encodeImageSize(size: Size): Buffer {
  const { width, height } = size;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1 || width > 0xffff || height > 0xffff) {
    throw new RangeError(`Canon image size ${width}x${height} does not fit the 0x88 message`);
  }
  const payload = Buffer.alloc(4);
  payload.writeUInt16BE(width, 0);
  payload.writeUInt16BE(height, 2);
  return encodeVideogram(VideogramId.imageSize, payload);
}

/**
 * Takes one NUL-terminated text reply off the front of `buffer` and returns it without the NUL, or undefined when
 * more bytes are needed. A reply (NUL included) longer than `maxBytes` is a PROTOCOL error, so a camera that never
 * sends the NUL cannot make us buffer without bound.
 */
export function takeTextReply(buffer: ByteBuffer, maxBytes: number): Buffer | undefined {
  const nul = buffer.indexOf(0x00);
  if (nul >= maxBytes || (nul < 0 && buffer.length >= maxBytes)) {
    throw new AdapterError('PROTOCOL', `camera text reply longer than ${maxBytes} bytes without a NUL terminator`);
  }
  if (nul < 0) return undefined;
  const reply = buffer.take(nul);
  buffer.skip(1);
  return reply;
}

/**
 * Takes one videogram off the front of `buffer`, or returns undefined when more bytes are needed. The length field is
 * checked against `limits` as soon as the header is in, before any payload is waited for, so the bytes held never
 * exceed one header plus the largest allowed payload (plus whatever the last read appended).
 */
export function takeVideogram(buffer: ByteBuffer, limits: VideogramLimits): Videogram | undefined {
  if (buffer.length < VIDEOGRAM_HEADER_BYTES) return undefined;
  const head = buffer.view();
  const id = head[0]!;
  const header = head.readUIntBE(1, 3);
  const length = head.readUInt32BE(4);
  const limit = id === VideogramId.frame ? limits.maxFramePayload : limits.maxOtherPayload;
  if (length > limit) {
    throw new AdapterError('PROTOCOL', `camera message 0x${hex(id)} announces ${length} bytes, over the limit of ${limit}`);
  }
  if (buffer.length < VIDEOGRAM_HEADER_BYTES + length) return undefined;
  buffer.skip(VIDEOGRAM_HEADER_BYTES);
  return { id, header, payload: buffer.take(length) };
}

/** Two hex digits, for naming message ids in logs and errors. */
export function hex(byte: number): string {
  return byte.toString(16).padStart(2, '0');
}

/** A camera's text reply made safe and short for a log line: printable ASCII only, at most `max` characters. */
export function printableText(reply: Buffer, max = 80): string {
  const text = reply.subarray(0, max).toString('latin1').replace(/[^\x20-\x7e]/g, '.');
  return reply.length > max ? `${text}...` : text;
}
