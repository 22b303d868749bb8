/**
 * The clock pattern the latency bench draws into every frame: two rows of black and white blocks, each row the
 * milliseconds since a base time in 24 bits, most significant bit first (row B inverted by a mask, so a frame that
 * is all black or all white never reads as a value). bench/latency/probe.js reads the same geometry in the browser.
 */
export const PATTERN = {
  width: 640,
  height: 480,
  bits: 24,
  blockWidth: 24,
  left: 32,
  rowA: 24,
  rowB: 96,
  rowHeight: 48,
  mask: 0xa5a5a5,
} as const;

/** Values wrap after 2^24 ms (4.6 hours), far longer than a bench run. */
export const PATTERN_MODULO = 2 ** PATTERN.bits;

const BACKGROUND = 96;

/** Draws `value` (taken modulo 2^24) into a grey 8-bit frame of PATTERN.width x PATTERN.height. */
export function drawPattern(frame: Buffer, value: number): void {
  const { width, bits, blockWidth, left, rowA, rowB, rowHeight, mask } = PATTERN;
  frame.fill(BACKGROUND);
  const a = value % PATTERN_MODULO;
  const b = a ^ mask;
  for (const [row, word] of [[rowA, a], [rowB, b]] as const) {
    for (let bit = 0; bit < bits; bit++) {
      const on = (word >> (bits - 1 - bit)) & 1 ? 255 : 0;
      const x0 = left + bit * blockWidth;
      for (let y = row; y < row + rowHeight; y++) frame.fill(on, y * width + x0, y * width + x0 + blockWidth);
    }
  }
}

/** Reads the value back from a grey frame (the Node twin of probe.js's decoder); null when the rows disagree. */
export function readPattern(frame: Buffer): number | null {
  const { width, bits, blockWidth, left, rowA, rowB, rowHeight, mask } = PATTERN;
  const row = (top: number): number => {
    let word = 0;
    for (let bit = 0; bit < bits; bit++) {
      const x = left + bit * blockWidth + blockWidth / 2;
      const y = top + rowHeight / 2;
      word = (word << 1) | ((frame[y * width + x] ?? 0) > 128 ? 1 : 0);
    }
    return word;
  };
  const a = row(rowA);
  return (row(rowB) ^ mask) === a ? a : null;
}
