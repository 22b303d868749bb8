import { ProtocolError } from '../errors.ts';

/** Reads big-endian bit fields, as MPEG-4 Audio's configuration syntax is written; throws ProtocolError past the end. */
export class BitReader {
  /** Position in bits from the start of the buffer. */
  position = 0;

  constructor(private readonly bytes: Buffer, private readonly what: string) {}

  get bitsLeft(): number {
    return this.bytes.length * 8 - this.position;
  }

  /** Reads up to 32 bits as an unsigned number. */
  read(count: number): number {
    if (count > this.bitsLeft) throw new ProtocolError(`${this.what}: truncated`);
    let value = 0;
    for (let i = 0; i < count; i++) {
      const byte = this.bytes[(this.position >> 3)]!;
      value = value * 2 + ((byte >> (7 - (this.position & 7))) & 1);
      this.position++;
    }
    return value;
  }

  /** Copies the bits from `start` to the current position into whole bytes, zero-padded at the end. */
  copyFrom(start: number): Buffer {
    const length = this.position - start;
    const out = Buffer.alloc(Math.ceil(length / 8));
    for (let i = 0; i < length; i++) {
      const at = start + i;
      if ((this.bytes[at >> 3]! >> (7 - (at & 7))) & 1) out[i >> 3]! |= 0x80 >> (i & 7);
    }
    return out;
  }
}

/** Writes big-endian bit fields into a byte buffer. */
export class BitWriter {
  private readonly bits: number[] = [];

  write(value: number, count: number): void {
    for (let i = count - 1; i >= 0; i--) this.bits.push(Math.floor(value / 2 ** i) & 1);
  }

  /** The bits written, zero-padded to whole bytes. */
  toBuffer(): Buffer {
    const out = Buffer.alloc(Math.ceil(this.bits.length / 8));
    this.bits.forEach((bit, i) => {
      if (bit) out[i >> 3]! |= 0x80 >> (i & 7);
    });
    return out;
  }
}
