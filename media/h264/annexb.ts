/** NAL units to an AVCC payload: each prefixed by its length as a 4-byte big-endian integer. */
export function toAvcc(nalus: readonly Buffer[]): Buffer {
  const parts: Buffer[] = [];
  for (const nal of nalus) {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(nal.length);
    parts.push(length, nal);
  }
  return Buffer.concat(parts);
}

/** NAL units to Annex B with 4-byte start codes. */
export function toAnnexB(nalus: readonly Buffer[]): Buffer {
  const startCode = Buffer.from([0, 0, 0, 1]);
  return Buffer.concat(nalus.flatMap((nal) => [startCode, nal]));
}
