import t from 'tap';
import { splitAvcc } from '../../media/flv/frames.ts';
import { buildAvcC, parseAvcC, spsPictureSize } from '../../media/h264/params.ts';
import { startTestEncodedSource } from '../helpers/encoded-source.ts';

t.test('ffmpeg FLV output becomes encoded frames: a track with the picture size, keyframes, increasing times', async (t) => {
  const source = startTestEncodedSource({ size: '320x240', rate: 25, gop: 10 });
  t.teardown(source.stop);
  const frames: { pts: number; dts: number; keyframe: boolean }[] = [];
  await new Promise<void>((resolve) => {
    const unsubscribe = source.hub.subscribe((frame) => {
      frames.push(frame);
      if (frames.length === 30) {
        unsubscribe();
        resolve();
      }
    });
  });
  const track = source.hub.track!;
  t.equal(track.width, 320);
  t.equal(track.height, 240);
  t.match(track.codecString, /^avc1\.[0-9a-f]{6}$/);
  t.ok(frames[0]!.keyframe, 'the first frame is a keyframe');
  t.equal(frames.filter((frame) => frame.keyframe).length, 3, 'one keyframe every 10 frames');
  for (let i = 1; i < frames.length; i++) t.ok(frames[i]!.dts > frames[i - 1]!.dts, `dts increases at ${i}`);
  t.ok(frames.every((frame) => frame.pts >= frame.dts));
  t.ok(source.hub.groupOfPictures[0]?.keyframe, 'the hub keeps the group from its keyframe');
});

t.test('avcC round trip and SPS sizes', async (t) => {
  // x264's SPS and PPS for 640x360 in High 4:4:4 (a height that needs cropping from 368, chroma format 3).
  const sps = Buffer.from('67f40016919b281405ff138088000003000800000300a078b16cb0', 'hex');
  const pps = Buffer.from('68ebe3c44844', 'hex');
  t.same(spsPictureSize(sps), { width: 640, height: 360 });
  t.same(parseAvcC(buildAvcC(sps, pps)), { sps, pps });
  t.throws(() => parseAvcC(Buffer.from([1, 2, 3])), /not an avcC|without SPS/);
  t.throws(() => spsPictureSize(Buffer.from([0x67, 0x64])), /truncated/);
});

t.test('AVCC payloads with lengths past the end are refused', async (t) => {
  t.same(splitAvcc(Buffer.from([0, 0, 0, 2, 0x65, 1, 0, 0, 0, 1, 0x41])).length, 2);
  t.throws(() => splitAvcc(Buffer.from([0, 0, 0, 9, 0x65])), /runs past/);
  t.throws(() => splitAvcc(Buffer.from([0, 0, 0, 1, 0x65, 7])), /trailing/);
});
