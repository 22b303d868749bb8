import t from 'tap';
import { ProtocolError } from '../../../media/errors.ts';
import { isPlausibleVp8Frame, parseVp8Descriptor, Vp8Depacketizer, vp8KeyframeSize } from '../../../media/rtp/vp8-depacketizer.ts';
import type { RtpPacket } from '../../../media/rtp/rtp.ts';
import { vp8InterFrame, vp8Keyframe, vp8Packets } from '../../adapters/push/vp8-builder.ts';

function feed(depacketizer: Vp8Depacketizer, packets: RtpPacket[]): Buffer[] {
  return packets.flatMap((packet) => depacketizer.push(packet)).map((frame) => frame.data);
}

t.test('descriptors: plain, with a 7-bit and a 15-bit picture ID, with TL0PICIDX and KEYIDX', async (t) => {
  t.same(parseVp8Descriptor(Buffer.from([0x10, 0xaa])), { frameStart: true, payload: Buffer.from([0xaa]) });
  t.same(parseVp8Descriptor(Buffer.from([0x90, 0x80, 0x05, 0xaa])), { frameStart: true, payload: Buffer.from([0xaa]) });
  t.same(parseVp8Descriptor(Buffer.from([0x80, 0x80, 0x81, 0x02, 0xaa])), { frameStart: false, payload: Buffer.from([0xaa]) });
  t.same(parseVp8Descriptor(Buffer.from([0x90, 0xf0, 0x81, 0x02, 0x07, 0x20, 0xaa])), { frameStart: true, payload: Buffer.from([0xaa]) });
  t.equal(parseVp8Descriptor(Buffer.from([0x11, 0xaa]))?.frameStart, false, 'S set in partition 1 is not a frame start');
});

t.test('descriptors that overrun the packet or carry no VP8 bytes are refused', async (t) => {
  for (const bytes of [[], [0x10], [0x80], [0x90, 0x80], [0x90, 0x80, 0x81, 0x02], [0x90, 0x40, 0x01]]) {
    t.equal(parseVp8Descriptor(Buffer.from(bytes)), undefined, `[${bytes.join(',')}]`);
  }
});

t.test('keyframe size from the uncompressed header; inter frames and bad start codes have none', async (t) => {
  t.same(vp8KeyframeSize(vp8Keyframe(1280, 720)), { width: 1280, height: 720 });
  t.equal(vp8KeyframeSize(vp8InterFrame()), undefined);
  const bad = vp8Keyframe();
  bad[4] = 0;
  t.equal(vp8KeyframeSize(bad), undefined);
  t.equal(vp8KeyframeSize(vp8Keyframe().subarray(0, 9)), undefined);
  t.equal(vp8KeyframeSize(vp8Keyframe(0, 240)), undefined);
});

t.test('a plausible VP8 frame: a keyframe with its start code and whole header, another frame with its tag', async (t) => {
  t.ok(isPlausibleVp8Frame(vp8Keyframe(), true));
  t.ok(isPlausibleVp8Frame(vp8InterFrame(), false));
  const bad = vp8Keyframe();
  bad[3] = 0;
  t.notOk(isPlausibleVp8Frame(bad, true), 'a keyframe without the start code');
  t.notOk(isPlausibleVp8Frame(vp8Keyframe().subarray(0, 9), true), 'a keyframe cut inside its header');
  t.notOk(isPlausibleVp8Frame(Buffer.from([0x01, 0x02]), false), 'a frame shorter than its tag');
});

t.test('frames are rebuilt across packets, keyframe first, inter frames after', async (t) => {
  const depacketizer = new Vp8Depacketizer(1 << 20);
  const key = vp8Keyframe(320, 240, 500);
  const inter = vp8InterFrame(150);
  const frames = [
    ...feed(depacketizer, vp8Packets(key, 1, 3000, 64, 300)),
    ...feed(depacketizer, vp8Packets(inter, 9, 6000, 64, 301)),
  ];
  t.same(frames, [key, inter]);
  t.equal(depacketizer.droppedFrames, 0);
});

t.test('the stream starts at a keyframe: inter frames before it are skipped', async (t) => {
  const depacketizer = new Vp8Depacketizer(1 << 20);
  t.same(feed(depacketizer, vp8Packets(vp8InterFrame(), 1, 3000)), []);
  t.equal(depacketizer.skippedFrames, 1);
  t.same(feed(depacketizer, vp8Packets(vp8Keyframe(), 3, 6000)).length, 1);
});

t.test('a partition lost mid-frame drops that frame and every inter frame until the next keyframe', async (t) => {
  const depacketizer = new Vp8Depacketizer(1 << 20);
  feed(depacketizer, vp8Packets(vp8Keyframe(), 1, 1000));
  const damaged = vp8Packets(vp8InterFrame(300), 10, 2000);
  t.ok(damaged.length >= 3);
  feed(depacketizer, damaged.slice(0, 1));
  depacketizer.markLoss(); // the reorderer reports the missing middle packet
  t.same(feed(depacketizer, damaged.slice(2)), [], 'the damaged frame is dropped');
  t.same(feed(depacketizer, vp8Packets(vp8InterFrame(), 20, 3000)), [], 'an intact inter frame after it refers to the lost one');
  const key = vp8Keyframe(320, 240, 100, 0x77);
  t.same(feed(depacketizer, vp8Packets(key, 30, 4000)), [key], 'the next keyframe plays again');
  t.equal(depacketizer.droppedFrames, 1);
  t.equal(depacketizer.skippedFrames, 1);
});

t.test('a frame whose first packet never came, or whose end never came, is dropped', async (t) => {
  const depacketizer = new Vp8Depacketizer(1 << 20);
  const packets = vp8Packets(vp8Keyframe(320, 240, 300), 1, 1000);
  t.same(feed(depacketizer, packets.slice(1)), [], 'no start');
  const cut = vp8Packets(vp8Keyframe(320, 240, 300), 20, 2000);
  const key = vp8Keyframe(320, 240, 10);
  t.same(feed(depacketizer, [...cut.slice(0, -1), ...vp8Packets(key, 40, 3000)]), [key], 'no marker: the timestamp moved on');
  t.equal(depacketizer.droppedFrames, 2);
});

t.test('a frame over maxFrameBytes is a PROTOCOL error and leaves nothing held', async (t) => {
  const depacketizer = new Vp8Depacketizer(1000);
  t.throws(() => feed(depacketizer, vp8Packets(vp8Keyframe(320, 240, 5000), 1, 1000, 500)), ProtocolError);
  t.equal(depacketizer.bufferedBytes, 0);
  t.same(feed(depacketizer, vp8Packets(vp8Keyframe(320, 240, 100), 50, 2000)).length, 1, 'the next frame is taken');
});
