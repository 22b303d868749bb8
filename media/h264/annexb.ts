/** Splits an Annex B byte stream (00 00 01 / 00 00 00 01 start codes) into NAL units without start codes. */
export function splitAnnexB(data: Buffer): Buffer[] {
  const nalus: Buffer[] = [];
  let start = -1;
  let i = 0;
  while (i + 2 < data.length) {
    if (data[i] === 0 && data[i + 1] === 0 && data[i + 2] === 1) {
      if (start >= 0) nalus.push(trimTrailingZeros(data.subarray(start, i)));
      i += 3;
      start = i;
    } else i++;
  }
  if (start >= 0 && start < data.length) nalus.push(data.subarray(start));
  return nalus.filter((nal) => nal.length > 0);
}

/** A 4-byte start code's leading zero belongs to the next start code, not to the NAL unit before it. */
function trimTrailingZeros(nal: Buffer): Buffer {
  let end = nal.length;
  while (end > 0 && nal[end - 1] === 0) end--;
  return nal.subarray(0, end);
}

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

export const NalType = { idr: 5, sei: 6, sps: 7, pps: 8, aud: 9 } as const;

export function nalType(nal: Buffer): number {
  return (nal[0] ?? 0) & 0x1f;
}
