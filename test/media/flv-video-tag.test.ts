import t from 'tap';
import { flvHeader, flvTag, flvVideoTag } from '../../media/flv/mux.ts';
import { FlvTagReader, FlvTagType } from '../../media/flv/tags.ts';
import { h264Track } from '../../media/h264/params.ts';
import type { H264Unit } from '../../media/types.ts';

// x264's SPS and PPS for 640x360 (High 4:4:4), as in flv-frames.test.ts.
const track = h264Track(Buffer.from('67f40016919b281405ff138088000003000800000300a078b16cb0', 'hex'), Buffer.from('68ebe3c44844', 'hex'));

/** The tag as flvVideoTag built it before it wrote in one allocation: AVCC by parts, a 5-byte head, then flvTag. */
function tagByParts(frame: H264Unit, timestampMs: number): Buffer {
  const avcc = Buffer.concat(frame.data.flatMap((nal) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(nal.length);
    return [length, nal];
  }));
  const head = Buffer.alloc(5);
  head[0] = frame.keyframe ? 0x17 : 0x27;
  head[1] = 1;
  head.writeIntBE(Math.round(frame.pts - frame.dts), 2, 3);
  return flvTag(FlvTagType.video, timestampMs, Buffer.concat([head, avcc]));
}

function nal(header: number, length: number, fill: number): Buffer {
  const bytes = Buffer.alloc(length, fill);
  bytes[0] = header;
  return bytes;
}

// Guards the one-allocation FLV video tag against writing other bytes than the tag built by parts did.
t.test('the FLV video tag written in one allocation is byte for byte the tag built by parts', async (t) => {
  const cases: Array<{ name: string; frame: H264Unit; time: number }> = [
    { name: 'multi-NAL keyframe (SEI + two IDR slices)', time: 0,
      frame: { track, keyframe: true, pts: 1000, dts: 1000, data: [nal(0x06, 12, 0xaa), nal(0x65, 5000, 0x11), nal(0x65, 300, 0x22)] } },
    { name: 'interframe with pts after dts (B-frames)', time: 0x1234567,
      frame: { track, keyframe: false, pts: 1080.4, dts: 1040, data: [nal(0x41, 700, 0x33)] } },
    { name: 'negative composition offset', time: 40,
      frame: { track, keyframe: false, pts: 960, dts: 1000, data: [nal(0x41, 20, 0x44), nal(0x41, 1, 0x55)] } },
    { name: 'timestamp past 24 bits wraps into the extension byte', time: 0x1_0000_0050,
      frame: { track, keyframe: true, pts: 5, dts: 5, data: [nal(0x65, 64, 0x66)] } },
  ];
  for (const { name, frame, time } of cases) {
    const tag = flvVideoTag(frame, time);
    t.same(tag, tagByParts(frame, time), name);
    const [parsed] = new FlvTagReader().push(Buffer.concat([flvHeader(), tag]));
    t.equal(parsed?.type, FlvTagType.video, `${name}: one video tag for the FLV reader`);
  }
});
