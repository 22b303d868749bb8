import { createServer, type AddressInfo, type Socket } from 'node:net';
import { payloadBytes } from '../../helpers/sink.ts';
import t from 'tap';
import { isCompleteJpeg } from '../../../media/jpeg/splitter.ts';
import { DEFAULT_VBC_TUNING, VbcAdapter } from '../../../adapters/vbc/client.ts';
import { makeCameraConfig } from '../../helpers/camera-config.ts';
import { makeCanonJpegs } from './canon-jpegs.ts';
import { BackgroundRun } from './run-helpers.ts';
import { videogram } from './simulator.ts';
import { prng } from '../../helpers/prng.ts';

const RUNS = Number(process.env.VBC_RUNS ?? 150);
const jpegs = await makeCanonJpegs(2);

const random = prng(0xc0ffee);
const int = (n: number): number => Math.floor(random() * n);

/** Replies of every kind, some of them then damaged: what a confused or hostile camera might send after START. */
function hostileReplies(): Buffer {
  const parts: Buffer[] = [];
  for (let i = int(10) + 5; i >= 0; i--) {
    const pick = int(8);
    if (pick < 4) parts.push(videogram(0x02, 0, jpegs[int(jpegs.length)]!));
    else if (pick < 6) parts.push(videogram(int(256), int(1 << 24), Buffer.alloc(int(1100), int(256))));
    else if (pick === 6) parts.push(Buffer.from(Array.from({ length: int(40) }, () => int(256))));
    else parts.push(videogram(0x02, 0, Buffer.alloc(int(500), 0xff)));
  }
  const stream = Buffer.concat(parts);
  for (let flips = int(3); flips > 0 && stream.length; flips--) {
    const at = int(stream.length);
    stream[at] = stream[at]! ^ (1 << int(8));
  }
  return stream.subarray(0, stream.length - int(Math.min(stream.length, 20)));
}

/** Answers the text phase properly, then sends `nextReplies()` once and hangs up. */
function hostileCamera(nextReplies: () => Buffer) {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let text = '';
    let started = false;
    socket.on('data', (chunk: Buffer) => {
      if (started) return;
      text += chunk.toString('latin1');
      if (text === 'VERSION\n') socket.write('1.0\0');
      if (text.endsWith('GET MUXCONF\n')) socket.write('ok\0');
      // START may arrive in one read with the first binary request.
      if (text.includes('START\n')) {
        started = true;
        socket.end(nextReplies());
      }
    });
  });
  return {
    listen: () => new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port))),
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

t.test(`${RUNS} runs against a camera sending damaged replies end only in CLOSED or PROTOCOL`, async (t) => {
  // Guards that no byte sequence from a camera crashes the adapter, leaks a non-AdapterError or delivers a broken frame.
  const camera = hostileCamera(hostileReplies);
  const port = await camera.listen();
  t.teardown(camera.close);
  const tuning = { ...DEFAULT_VBC_TUNING, setupReplyWaitMs: 5 };
  const codes = new Map<string, number>();
  let frames = 0;
  let brokenFrames = 0;
  for (let i = 0; i < RUNS; i++) {
    const run = new BackgroundRun(new VbcAdapter(makeCameraConfig(`vbc://127.0.0.1:${port}`, { readTimeoutMs: 2000 }), tuning));
    const error = await run.failure(3000);
    codes.set(error.code, (codes.get(error.code) ?? 0) + 1);
    frames += run.sink.frames.length;
    brokenFrames += run.sink.frames.filter((frame) => !isCompleteJpeg(payloadBytes(frame))).length;
  }
  t.comment(`outcomes ${JSON.stringify(Object.fromEntries(codes))}, ${frames} frames delivered`);
  t.same([...codes.keys()].filter((code) => code !== 'CLOSED' && code !== 'PROTOCOL'), []);
  t.equal(brokenFrames, 0, 'every delivered frame is a whole JPEG');
  t.ok(frames > 0 && (codes.get('PROTOCOL') ?? 0) > 0, 'both the frame path and the error path were reached');
});
