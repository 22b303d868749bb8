/**
 * Server-to-client WebSocket frames (RFC 6455 section 5.2), built once and written as they are to every viewer: a
 * server's frames are not masked, so the same bytes serve every connection, as an FLV tag does.
 */

const OPCODE_TEXT = 0x1;
const OPCODE_BINARY = 0x2;

function frame(opcode: number, payload: Buffer): Buffer {
  const length = payload.length;
  const headerLength = length < 126 ? 2 : length < 0x10000 ? 4 : 10;
  const out = Buffer.allocUnsafe(headerLength + length);
  out[0] = 0x80 | opcode; // FIN: every message is one frame
  if (length < 126) out[1] = length;
  else if (length < 0x10000) {
    out[1] = 126;
    out.writeUInt16BE(length, 2);
  } else {
    out[1] = 127;
    out.writeBigUInt64BE(BigInt(length), 2);
  }
  payload.copy(out, headerLength);
  return out;
}

/** One binary message. */
export function binaryFrame(payload: Buffer): Buffer {
  return frame(OPCODE_BINARY, payload);
}

/** One text message holding `value` as JSON. */
export function jsonFrame(value: unknown): Buffer {
  return frame(OPCODE_TEXT, Buffer.from(JSON.stringify(value), 'utf8'));
}
