import { execFileSync } from 'node:child_process';
import t from 'tap';
import { drawPattern, PATTERN, PATTERN_MODULO, readPattern } from '../../bench/latency/pattern.ts';

const { width, height } = PATTERN;

/** The frame as a viewer gets it: through a JPEG (the camera) and back to grey pixels. */
function throughJpeg(frame: Buffer, quality: number): Buffer {
  const jpeg = execFileSync('ffmpeg', ['-v', 'error', '-f', 'rawvideo', '-pix_fmt', 'gray', '-s', `${width}x${height}`, '-i', 'pipe:0',
    '-c:v', 'mjpeg', '-q:v', String(quality), '-pix_fmt', 'yuvj420p', '-f', 'mjpeg', 'pipe:1'], { input: frame });
  return execFileSync('ffmpeg', ['-v', 'error', '-f', 'mjpeg', '-i', 'pipe:0', '-f', 'rawvideo', '-pix_fmt', 'gray', 'pipe:1'], { input: jpeg });
}

t.test('the clock pattern reads back after JPEG compression', async (t) => {
  const frame = Buffer.alloc(width * height);
  for (const value of [0, 1, 999, 123_456, 8_388_607, PATTERN_MODULO - 1, PATTERN_MODULO + 5]) {
    drawPattern(frame, value);
    t.equal(readPattern(frame), value % PATTERN_MODULO, `${value} raw`);
    t.equal(readPattern(throughJpeg(frame, 20)), value % PATTERN_MODULO, `${value} through a coarse JPEG`);
  }
});

t.test('frames without the pattern read as nothing, not as a time', async (t) => {
  t.equal(readPattern(Buffer.alloc(width * height, 0)), null, 'black');
  t.equal(readPattern(Buffer.alloc(width * height, 255)), null, 'white');
  const frame = Buffer.alloc(width * height);
  drawPattern(frame, 4242);
  frame.fill(0, PATTERN.rowB * width, (PATTERN.rowB + PATTERN.rowHeight) * width);
  t.equal(readPattern(frame), null, 'one row lost (a torn frame)');
});
