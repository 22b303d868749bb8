import t from 'tap';
import { ProtocolError } from '../../../media/errors.ts';
import { parseVp8Descriptor, Vp8Depacketizer } from '../../../media/rtp/vp8-depacketizer.ts';
import { RtpReorderer, type RtpPacket } from '../../../media/rtp/rtp.ts';
import { prng } from '../../helpers/prng.ts';
import { vp8InterFrame, vp8Keyframe, vp8Packets } from '../../adapters/push/vp8-builder.ts';

const RUNS = 100_000;
const MAX_FRAME_BYTES = 4096;

function mutate(payload: Buffer, random: () => number): Buffer {
  const bytes = Buffer.from(payload);
  const kind = Math.floor(random() * 5);
  if (kind === 0 && bytes.length > 0) bytes[Math.floor(random() * bytes.length)] = Math.floor(random() * 256);
  if (kind === 1) return bytes.subarray(0, Math.floor(random() * (bytes.length + 1)));
  if (kind === 2) {
    const noise = Buffer.alloc(1 + Math.floor(random() * 40));
    for (let i = 0; i < noise.length; i++) noise[i] = Math.floor(random() * 256);
    return noise;
  }
  if (kind === 3 && bytes.length > 0) bytes[0] = Math.floor(random() * 256); // a random descriptor first byte
  return bytes;
}

// Every input is one RTP packet built from a real frame's packets (mutated, reordered, duplicated, dropped, or noise),
// pushed through the reorderer and the depacketizer as a push session does: nothing may throw but the size limit,
// nothing may be held past the limit, and what comes out is whole.
t.test(`${RUNS} seeded inputs through reorderer and VP8 depacketizer`, async (t) => {
  const seed = 0x7741;
  const random = prng(seed);
  const reorderer = new RtpReorderer();
  let depacketizer = new Vp8Depacketizer(MAX_FRAME_BYTES);
  let sequence = 0;
  let timestamp = 0;
  let queue: RtpPacket[] = [];
  let frames = 0;
  let sizeErrors = 0;
  for (let run = 0; run < RUNS; run++) {
    if (queue.length === 0) {
      timestamp += 3000;
      const kind = random();
      const frame = kind < 0.01 ? vp8Keyframe(320, 240, MAX_FRAME_BYTES) : kind < 0.2 ? vp8Keyframe(320, 240, Math.floor(random() * 600)) : vp8InterFrame(Math.floor(random() * 300));
      const chunk = kind < 0.01 ? 1400 : 1 + Math.floor(random() * 200);
      queue = vp8Packets(frame, sequence, timestamp, chunk, random() < 0.5 ? run & 0x7fff : undefined);
      sequence = (sequence + queue.length) & 0xffff;
    }
    let packet = queue.shift()!;
    const roll = random();
    if (roll < 0.05) continue; // lost
    if (roll < 0.1) queue.splice(Math.floor(random() * (queue.length + 1)), 0, packet); // late
    if (roll < 0.3) packet = { ...packet, payload: mutate(packet.payload, random) };
    if (roll > 0.97) packet = { ...packet, sequence: Math.floor(random() * 65536), timestamp: Math.floor(random() * 2 ** 32) >>> 0 };
    try {
      parseVp8Descriptor(packet.payload);
      for (const item of reorderer.push(packet, run)) {
        if ('lost' in item) depacketizer.markLoss();
        else {
          for (const frame of depacketizer.push(item.packet)) {
            frames++;
            if (frame.data.length === 0 || frame.data.length > MAX_FRAME_BYTES) t.fail(`run ${run}: a frame of ${frame.data.length} bytes`);
          }
        }
      }
    } catch (error) {
      if (!(error instanceof ProtocolError) || error.code !== 'PROTOCOL') {
        t.fail(`run ${run} (seed ${seed}): ${(error as Error).stack}`);
        break;
      }
      sizeErrors++;
      depacketizer = new Vp8Depacketizer(MAX_FRAME_BYTES); // a session ends on this error; the next one starts fresh
    }
    if (depacketizer.bufferedBytes > MAX_FRAME_BYTES) t.fail(`run ${run}: ${depacketizer.bufferedBytes} bytes held`);
    if (reorderer.heldPackets > 16) t.fail(`run ${run}: ${reorderer.heldPackets} packets held`);
  }
  t.ok(frames > 1000, `intact frames still come through the damage (${frames})`);
  t.ok(sizeErrors > 0, `oversized frames are refused (${sizeErrors})`);
  t.ok(depacketizer.droppedFrames + depacketizer.skippedFrames > 0, 'damaged frames are dropped');
});
