/**
 * A growable byte buffer for incremental parsers: append what the socket gave, parse whole messages off the front,
 * keep the remainder. Appends are amortised O(n) (capacity doubles), unlike Buffer.concat on every chunk.
 */
export class ByteBuffer {
  private storage: Buffer;
  private start = 0;
  private end = 0;

  constructor(initialCapacity = 64 * 1024) {
    this.storage = Buffer.allocUnsafe(initialCapacity);
  }

  get length(): number {
    return this.end - this.start;
  }

  append(chunk: Buffer): void {
    if (this.end + chunk.length > this.storage.length) this.makeRoom(chunk.length);
    chunk.copy(this.storage, this.end);
    this.end += chunk.length;
  }

  /** The unread bytes; a view that is valid until the next append or consume. */
  view(): Buffer {
    return this.storage.subarray(this.start, this.end);
  }

  byteAt(offset: number): number {
    return this.storage[this.start + offset]!;
  }

  indexOf(needle: Buffer | number, fromOffset = 0): number {
    return this.view().indexOf(needle, fromOffset);
  }

  /** Removes and returns a copy of the first n bytes (copied, so it survives later appends). */
  take(n: number): Buffer {
    const out = Buffer.from(this.storage.subarray(this.start, this.start + n));
    this.skip(n);
    return out;
  }

  skip(n: number): void {
    this.start += Math.min(n, this.length);
    if (this.start === this.end) this.start = this.end = 0;
  }

  clear(): void {
    this.start = this.end = 0;
  }

  private makeRoom(extra: number): void {
    const needed = this.length + extra;
    if (needed <= this.storage.length / 2) {
      this.storage.copy(this.storage, 0, this.start, this.end);
    } else {
      let capacity = this.storage.length * 2;
      while (capacity < needed) capacity *= 2;
      const grown = Buffer.allocUnsafe(capacity);
      this.storage.copy(grown, 0, this.start, this.end);
      this.storage = grown;
    }
    this.end -= this.start;
    this.start = 0;
  }
}
