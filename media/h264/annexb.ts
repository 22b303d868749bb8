/** The bytes NAL units take as AVCC: each one's length as a 4-byte big-endian integer, then the unit. */
export function avccSize(nalus: readonly Buffer[]): number {
  let size = 0;
  for (const nal of nalus) size += 4 + nal.length;
  return size;
}

/** Writes NAL units as AVCC into `target` at `offset` (it must have `avccSize` bytes there); returns the end. */
export function writeAvcc(nalus: readonly Buffer[], target: Buffer, offset: number): number {
  for (const nal of nalus) {
    target.writeUInt32BE(nal.length, offset);
    nal.copy(target, offset + 4);
    offset += 4 + nal.length;
  }
  return offset;
}

/** NAL units to an AVCC payload: each prefixed by its length as a 4-byte big-endian integer. */
export function toAvcc(nalus: readonly Buffer[]): Buffer {
  const out = Buffer.allocUnsafeSlow(avccSize(nalus)); // every byte is written below
  writeAvcc(nalus, out, 0);
  return out;
}

/** NAL units to Annex B with 4-byte start codes. */
export function toAnnexB(nalus: readonly Buffer[]): Buffer {
  const startCode = Buffer.from([0, 0, 0, 1]);
  return Buffer.concat(nalus.flatMap((nal) => [startCode, nal]));
}
