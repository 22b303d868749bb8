import t from 'tap';
import { AdapterError } from '../../../adapters/errors.ts';
import { parseContentType } from '../../../adapters/http/content-type.ts';
import { MultipartParser, type MultipartLimits } from '../../../adapters/http/multipart.ts';
import { STANDARD_PART, fakeJpeg, part, type PartStyle } from './fake-camera.ts';

const LIMITS: MultipartLimits = { maxPartBytes: 4096, maxHeaderBytes: 512, maxGarbageBytes: 2048 };
const A = fakeJpeg(1);
const B = fakeJpeg(2, 100);
const C = fakeJpeg(3, 7);

const style = (overrides: Partial<PartStyle>): PartStyle => ({ ...STANDARD_PART, ...overrides });
const text = (value: string): Buffer => Buffer.from(value, 'latin1');
const cat = (...pieces: Array<Buffer | string>): Buffer => Buffer.concat(pieces.map((p) => (typeof p === 'string' ? text(p) : p)));

interface Case {
  readonly name: string;
  /** The boundary as the Content-Type gives it; undefined when it names none. */
  readonly boundary: string | undefined;
  readonly input: Buffer;
  readonly frames?: readonly Buffer[];
  readonly dropped?: number;
  readonly closed?: boolean;
  readonly error?: RegExp;
}

/** Each case's name says what it guards; every case runs whole, in thirds and a byte at a time. */
const CASES: readonly Case[] = [
  { name: 'parts with Content-Length', boundary: 'myboundary', input: cat(part(A), part(B), part(C)), frames: [A, B, C] },
  { name: 'parts without Content-Length end at the JPEG EOI', boundary: 'myboundary',
    input: cat(part(A, style({ contentLength: false })), part(B, style({ contentLength: false }))), frames: [A, B] },
  { name: 'Canon: boundary announced as --LivescopeImage, lines written --LivescopeImage', boundary: '--LivescopeImage',
    input: cat(part(A, style({ delimiter: '--LivescopeImage' })), part(B, style({ delimiter: '--LivescopeImage' }))), frames: [A, B] },
  { name: 'boundary announced with -- and written with four dashes (RFC form)', boundary: '--myboundary',
    input: cat(part(A, style({ delimiter: '----myboundary' })), part(B, style({ delimiter: '----myboundary' }))), frames: [A, B] },
  { name: 'extra blank lines before and between parts', boundary: 'myboundary',
    input: cat('\r\n\r\n', part(A, style({ afterPart: '\r\n\r\n\r\n' })), '\n\n', part(B)), frames: [A, B] },
  { name: 'header names in upper and lower case', boundary: 'myboundary',
    input: cat(part(A, style({ headerCase: 'upper' })), part(B, style({ headerCase: 'lower' }))), frames: [A, B] },
  { name: 'LF-only line endings', boundary: 'b',
    input: cat('--b\nContent-Type: image/jpeg\ncontent-length: ', String(A.length), '\n\n', A, '\n--b\n\n', B, '\n'), frames: [A, B] },
  { name: 'a preamble before the first boundary is skipped', boundary: 'myboundary',
    input: cat('This is a multipart stream\r\nsee RFC 2046\r\n', part(A)), frames: [A] },
  { name: 'a repeated boundary line (Foscam G2) is tolerated', boundary: 'myboundary',
    input: cat('--myboundary\r\n', part(A), part(B)), frames: [A, B] },
  { name: 'no blank line between the headers and the JPEG', boundary: 'myboundary',
    input: cat('--myboundary\r\nContent-Type: image/jpeg\r\n', A, '\r\n', part(B)), frames: [A, B] },
  { name: 'no headers at all, just a blank line', boundary: 'myboundary',
    input: cat('--myboundary\r\n\r\n', A, '\r\n', part(B)), frames: [A, B] },
  { name: 'Content-Length that counts the trailing CR LF', boundary: 'myboundary',
    input: cat('--myboundary\r\nContent-Length: ', String(A.length + 2), '\r\n\r\n', A, '\r\n', part(B)), frames: [A, B] },
  { name: 'boundary learned from the body when the Content-Type names none', boundary: undefined,
    input: cat(part(A, style({ delimiter: '--ffmpeg' })), part(B, style({ delimiter: '--ffmpeg' }))), frames: [A, B] },
  { name: 'a text part with Content-Length is dropped and counted', boundary: 'myboundary',
    input: cat(part(A), part(text('hello, not a picture')), part(B)), frames: [A, B], dropped: 1 },
  { name: 'a text part without Content-Length is dropped and counted', boundary: 'myboundary',
    input: cat(part(A), part(text('hello, not a picture'), style({ contentLength: false })), part(B)), frames: [A, B], dropped: 1 },
  { name: 'a JPEG without an end marker, then the next part: the broken one is dropped', boundary: 'myboundary',
    input: cat(part(A.subarray(0, A.length - 2), style({ contentLength: false })), part(B, style({ contentLength: false }))), frames: [B], dropped: 1 },
  { name: 'a JPEG without an end marker inside a Content-Length part is dropped', boundary: 'myboundary',
    input: cat(part(A.subarray(0, A.length - 2)), part(B)), frames: [B], dropped: 1 },
  { name: 'a malformed JPEG segment without Content-Length is dropped, the stream goes on', boundary: 'myboundary',
    input: cat(part(text('\xff\xd8\xff\xe0\x00\x01xx'), style({ contentLength: false })), part(B)), frames: [B], dropped: 1 },
  { name: 'the closing boundary ends the stream and later bytes are ignored', boundary: 'myboundary',
    input: cat(part(A), '--myboundary--\r\n', part(B)), frames: [A], closed: true },
  { name: 'a part larger than the limit is a protocol error', boundary: 'myboundary',
    input: cat(part(A), part(fakeJpeg(9, 5000))), error: /larger than the 4096 byte limit/ },
  { name: 'a part without Content-Length larger than the limit is a protocol error', boundary: 'myboundary',
    input: cat(part(fakeJpeg(9, 5000), style({ contentLength: false }))), error: /larger than the 4096 byte limit/ },
  { name: 'a header block larger than the limit is a protocol error', boundary: 'myboundary',
    input: cat('--myboundary\r\n', 'X-Padding: 0123456789abcdef\r\n'.repeat(40), '\r\n', A), error: /headers larger than 512 bytes/ },
  { name: 'a header line with no end is a protocol error', boundary: 'myboundary',
    input: cat('--myboundary\r\nX-Endless: ', 'y'.repeat(1000)), error: /headers larger than 512 bytes/ },
  { name: 'a Content-Length that is not a number is a protocol error', boundary: 'myboundary',
    input: cat('--myboundary\r\nContent-Length: -5\r\n\r\n', A), error: /Content-Length "-5"/ },
  { name: 'garbage with no boundary line is a protocol error', boundary: 'myboundary',
    input: Buffer.alloc(3000, 'garbage line\r\n'), error: /no multipart boundary line within 2048 bytes/ },
  { name: 'binary garbage with no line end is a protocol error', boundary: 'myboundary',
    input: Buffer.alloc(3000, 0xab), error: /no multipart boundary line within 2048 bytes/ },
  { name: 'a boundary other than the announced one is never found', boundary: 'announced',
    input: cat(...Array.from({ length: 20 }, () => part(B))), error: /no multipart boundary line/ },
];

/** Feeds `chunks` and returns what came out: frames, dropped count, closed flag, or the error thrown. */
function feed(boundary: string | undefined, chunks: Iterable<Buffer>) {
  const parser = new MultipartParser(boundary, LIMITS);
  const frames: Buffer[] = [];
  try {
    for (const chunk of chunks) frames.push(...parser.push(chunk));
  } catch (error) {
    return { frames, error, dropped: parser.droppedParts, closed: parser.closed };
  }
  return { frames, error: undefined, dropped: parser.droppedParts, closed: parser.closed };
}

function* bytes(input: Buffer): Iterable<Buffer> {
  for (let i = 0; i < input.length; i++) yield input.subarray(i, i + 1);
}

function* thirds(input: Buffer): Iterable<Buffer> {
  const third = Math.ceil(input.length / 3);
  for (let i = 0; i < input.length; i += third) yield input.subarray(i, i + third);
}

for (const c of CASES) {
  t.test(c.name, async (t) => {
    for (const [how, chunks] of [['whole', [c.input]], ['in thirds', thirds(c.input)], ['byte at a time', bytes(c.input)]] as const) {
      const result = feed(c.boundary, chunks);
      if (c.error) {
        t.type(result.error, AdapterError, `${how}: throws an AdapterError`);
        t.equal((result.error as AdapterError).code, 'PROTOCOL', `${how}: code PROTOCOL`);
        t.match((result.error as Error).message, c.error, `${how}: says why`);
        continue;
      }
      t.equal(result.error, undefined, `${how}: no error`);
      t.same(result.frames, c.frames, `${how}: the expected frames, byte for byte`);
      t.equal(result.dropped, c.dropped ?? 0, `${how}: dropped parts counted`);
      t.equal(result.closed, c.closed ?? false, `${how}: closed flag`);
    }
  });
}

t.test('a frame without Content-Length is returned as soon as its EOI arrives, before the next boundary', async (t) => {
  const parser = new MultipartParser('myboundary', LIMITS);
  t.same(parser.push(cat('--myboundary\r\nContent-Type: image/jpeg\r\n\r\n', A)), [A]);
});

t.test('parseContentType reads quoted, unquoted and dash-prefixed boundaries', async (t) => {
  t.same(parseContentType('multipart/x-mixed-replace; boundary="my boundary"'), { mediaType: 'multipart/x-mixed-replace', boundary: 'my boundary' });
  t.same(parseContentType('multipart/x-mixed-replace;boundary=myboundary'), { mediaType: 'multipart/x-mixed-replace', boundary: 'myboundary' });
  t.same(parseContentType('Multipart/X-Mixed-Replace; charset=x; BOUNDARY=--LivescopeImage'), { mediaType: 'multipart/x-mixed-replace', boundary: '--LivescopeImage' });
  t.same(parseContentType('multipart/x-mixed-replace'), { mediaType: 'multipart/x-mixed-replace', boundary: undefined });
  t.same(parseContentType(`multipart/x-mixed-replace; boundary=${'x'.repeat(200)}`).boundary, undefined, 'an absurd boundary is ignored');
  t.same(parseContentType(undefined), { mediaType: '', boundary: undefined });
  t.same(parseContentType('image/jpeg'), { mediaType: 'image/jpeg', boundary: undefined });
});
