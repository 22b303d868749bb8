import t from 'tap';
import { ByteBuffer } from '../../../lib/byte-buffer.ts';
import { AdapterError } from '../../../adapters/errors.ts';
import {
  FRAME_REQUEST, REFERENCE_LIMITS, REFERENCE_SETUP, START_COMMAND, VERSION_COMMAND, encodeImageSize, encodeVideogram,
  loginCommands, printableText, takeTextReply, takeVideogram, type Videogram,
} from '../../../adapters/vbc/protocol.ts';
import { RateLimitedLog } from '../../../adapters/vbc/rate-limited-log.ts';
import { header, videogram } from './simulator.ts';

function bufferOf(...chunks: Buffer[]): ByteBuffer {
  const buffer = new ByteBuffer(16);
  for (const chunk of chunks) buffer.append(chunk);
  return buffer;
}

function drain(buffer: ByteBuffer): Videogram[] {
  const out: Videogram[] = [];
  for (let message = takeVideogram(buffer, REFERENCE_LIMITS); message; message = takeVideogram(buffer, REFERENCE_LIMITS)) {
    out.push(message);
  }
  return out;
}

t.test('requests serialise to the reference bytes', async (t) => {
  t.equal(FRAME_REQUEST.toString('hex'), '8500000000000000');
  t.equal(VERSION_COMMAND.toString('latin1'), 'VERSION\n');
  t.equal(START_COMMAND.toString('latin1'), 'START\n');
  t.equal(
    loginCommands(Buffer.from('10100b45293d523c4a4f16', 'hex')).toString('hex'),
    Buffer.concat([
      Buffer.from('SUPER r'), Buffer.from('10100b45293d523c4a4f16', 'hex'), Buffer.from('\nSET Mode Administrator\nGET MUXCONF\n'),
    ]).toString('hex'),
  );
  t.same(REFERENCE_SETUP.map((m) => encodeVideogram(m.id, m.payload).toString('hex')), [
    '8500000000000000',
    '8c00000000000004030a0b0e',
    '8d00000000000000',
    '8700000000000000',
    '910000000000000400000000',
  ]);
  t.equal(encodeImageSize({ width: 768, height: 576 }).toString('hex'), '880000000000000403000240');
  t.throws(() => encodeImageSize({ width: 0, height: 144 }), RangeError);
  t.throws(() => encodeImageSize({ width: 70_000, height: 144 }), RangeError);
});

// One table for parse and serialise: each reply as bytes and as the message it decodes to.
const cases: Array<{ name: string; bytes: Buffer; message: Videogram }> = [
  { name: 'frame', bytes: videogram(0x02, 0, Buffer.from([0xff, 0xd8, 0xff, 0xd9])), message: { id: 0x02, header: 0, payload: Buffer.from([0xff, 0xd8, 0xff, 0xd9]) } },
  { name: 'empty ack', bytes: Buffer.from('8c00000000000000', 'hex'), message: { id: 0x8c, header: 0, payload: Buffer.alloc(0) } },
  { name: 'header bytes 1-3 set', bytes: Buffer.from('81abcdef00000002beef', 'hex'), message: { id: 0x81, header: 0xabcdef, payload: Buffer.from('beef', 'hex') } },
  { name: 'other id at its limit', bytes: videogram(0x31, 0, Buffer.alloc(1000, 7)), message: { id: 0x31, header: 0, payload: Buffer.alloc(1000, 7) } },
];

for (const { name, bytes, message } of cases) {
  t.test(`videogram case "${name}": parse, serialise, and split at every offset`, async (t) => {
    t.same(drain(bufferOf(bytes)), [message]);
    if (message.header === 0) t.same(encodeVideogram(message.id, message.payload), bytes);
    for (let cut = 0; cut <= bytes.length; cut++) {
      const buffer = bufferOf(bytes.subarray(0, cut));
      const early = drain(buffer);
      buffer.append(bytes.subarray(cut));
      t.same([...early, ...drain(buffer)], [message], `cut at ${cut}`);
    }
  });
}

t.test('a stream trickled a byte at a time yields every message once, in order', async (t) => {
  const stream = Buffer.concat(cases.map((c) => c.bytes));
  const buffer = new ByteBuffer(16);
  const out: Videogram[] = [];
  for (const byte of stream) {
    buffer.append(Buffer.from([byte]));
    out.push(...drain(buffer));
  }
  t.same(out, cases.map((c) => c.message));
  t.equal(buffer.length, 0);
});

t.test('length limits are checked on the header, before any payload is awaited', async (t) => {
  // Guards that an oversize announcement fails at once instead of buffering toward it.
  t.equal(takeVideogram(bufferOf(header(0x02, 0, 2_000_000)), REFERENCE_LIMITS), undefined, 'a frame at the limit waits for its payload');
  t.throws(() => takeVideogram(bufferOf(header(0x02, 0, 2_000_001)), REFERENCE_LIMITS), { code: 'PROTOCOL' });
  t.throws(() => takeVideogram(bufferOf(header(0x31, 0, 1_001)), REFERENCE_LIMITS), { code: 'PROTOCOL' });
  t.throws(() => takeVideogram(bufferOf(header(0x85, 0, 0xffffffff)), REFERENCE_LIMITS), { code: 'PROTOCOL' });
  const small = { maxFramePayload: 10, maxOtherPayload: 0 };
  t.throws(() => takeVideogram(bufferOf(header(0x02, 0, 11)), small), AdapterError);
  t.throws(() => takeVideogram(bufferOf(header(0x44, 0, 1)), small), /0x44 announces 1 bytes, over the limit of 0/);
});

t.test('a truncated videogram is not taken and its bytes are kept', async (t) => {
  const buffer = bufferOf(videogram(0x02, 0, Buffer.alloc(100, 1)).subarray(0, 50));
  t.equal(takeVideogram(buffer, REFERENCE_LIMITS), undefined);
  t.equal(buffer.length, 50);
});

t.test('text replies: NUL-terminated, remainder kept, bounded', async (t) => {
  const buffer = bufferOf(Buffer.from('VB-C10 1.0\0'), Buffer.from('8500', 'hex'));
  t.equal(takeTextReply(buffer, 4096)?.toString(), 'VB-C10 1.0');
  t.equal(buffer.view().toString('hex'), '8500', 'bytes after the NUL stay for the next phase');
  t.equal(takeTextReply(bufferOf(Buffer.from([0])), 4096)?.length, 0, 'an empty reply');
  t.equal(takeTextReply(bufferOf(Buffer.alloc(4095, 0x41)), 4096), undefined, 'waits below the limit');
  t.equal(takeTextReply(bufferOf(Buffer.alloc(4095, 0x41), Buffer.from([0])), 4096)?.length, 4095, 'limit includes the NUL');
  // Guards against buffering an endless reply: the limit is hit without a NUL, or the NUL lies past it.
  t.throws(() => takeTextReply(bufferOf(Buffer.alloc(4096, 0x41)), 4096), { code: 'PROTOCOL' });
  t.throws(() => takeTextReply(bufferOf(Buffer.alloc(5000, 0x41), Buffer.from([0])), 4096), { code: 'PROTOCOL' });
});

t.test('text replies are made printable and short for logs', async (t) => {
  t.equal(printableText(Buffer.from('ok\x01\xff\n')), 'ok....');
  t.equal(printableText(Buffer.alloc(100, 0x41), 10), 'AAAAAAAAAA...');
});

t.test('repeated notes of one kind are held back and counted', async (t) => {
  const lines: string[] = [];
  const log = new RateLimitedLog((line) => lines.push(line), 60_000);
  for (let i = 0; i < 5; i++) log.note('a', 'first kind');
  log.note('b', 'second kind');
  t.same(lines, ['first kind', 'second kind']);
  const open = new RateLimitedLog((line) => lines.push(line), 0);
  open.note('a', 'x');
  open.note('a', 'y');
  t.same(lines.slice(2), ['x', 'y']);
});
