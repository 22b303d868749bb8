// CPU per FLV video tag built by `flvVideoTag`: one 40 KB three-NAL keyframe per 24 interframes of 6 KB, as a
// 640x480 camera at a few Mbit/s sends. Run it in two trees to compare them (alternate the order).
// Usage: node --import tsx bench/flv-tag.ts [tags per round, default 200000] [rounds, default 3]
import { flvVideoTag } from '../media/flv/mux.ts';
import type { H264Track, H264Unit } from '../media/types.ts';

const TAGS = Number(process.argv[2] ?? 200_000);
const ROUNDS = Number(process.argv[3] ?? 3);

/** Only what the tag reads of a track matters here: the tag never looks at the parameter sets. */
const track = { kind: 'video', codec: 'h264' } as unknown as H264Track;
const nal = (type: number, bytes: number): Buffer => Buffer.alloc(bytes, 0x11).fill(type, 0, 1);
const keyframe: H264Unit = { track, data: [nal(6, 20), nal(5, 20_000), nal(5, 20_000)], pts: 40, dts: 0, keyframe: true };
const interframe: H264Unit = { track, data: [nal(1, 6_000)], pts: 80, dts: 40, keyframe: false };

let sink = 0;
for (let round = 0; round <= ROUNDS; round++) {
  const started = process.cpuUsage();
  for (let index = 0; index < TAGS; index++) sink += flvVideoTag(index % 25 === 0 ? keyframe : interframe, index * 40).length;
  const used = process.cpuUsage(started);
  // Round 0 warms the code up and is not reported.
  if (round > 0) console.log(`round ${round}: ${((used.user + used.system) / TAGS).toFixed(2)} µs of CPU per tag`);
}
if (sink === 0) console.log('no bytes');
