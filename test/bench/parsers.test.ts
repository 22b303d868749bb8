import t from 'tap';
import { FlvTagWalker, type TagInfo } from '../../bench/loadgen/flv-tags.ts';
import { ResponseReader } from '../../bench/loadgen/http-reader.ts';
import { MjpegFrameFinder } from '../../bench/loadgen/mjpeg-frames.ts';
import { stampJpeg } from '../../bench/stamp.ts';

const jpeg = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xdb, 0x00, 0x04, 1, 2]), Buffer.alloc(300, 0x42), Buffer.from([0xff, 0x00, 0xff, 0xd9])]);
const part = (stamp: number): Buffer => Buffer.concat([Buffer.from(`--b\r\nContent-Type: image/jpeg\r\n\r\n`), stampJpeg(jpeg, stamp), Buffer.from('\r\n')]);
const mjpegBody = Buffer.concat([part(1000.5), part(1040.25), part(1080)]);

function flvTag(type: number, timestamp: number, data: Buffer): Buffer {
  const head = Buffer.alloc(11);
  head[0] = type;
  head.writeUIntBE(data.length, 1, 3);
  head.writeUIntBE(timestamp & 0xffffff, 4, 3);
  head[7] = timestamp >>> 24;
  const size = Buffer.alloc(4);
  size.writeUInt32BE(11 + data.length);
  return Buffer.concat([head, data, size]);
}
const flvBody = Buffer.concat([
  Buffer.from('FLV\x01\x01\x00\x00\x00\x09\x00\x00\x00\x00', 'latin1'),
  flvTag(18, 0, Buffer.alloc(30)),
  flvTag(9, 0, Buffer.from([0x17, 0x00, 0, 0, 0, 1, 2])),
  flvTag(9, 40, Buffer.concat([Buffer.from([0x17, 0x01]), Buffer.alloc(500, 7)])),
  flvTag(9, 0x1000050, Buffer.concat([Buffer.from([0x27, 0x01]), Buffer.alloc(200, 9)])),
]);

// Guards lag figures against reads that split a stamp, an EOI or a tag head: every split point gives the same frames.
t.test('MJPEG stamps are found whatever the read boundaries', async (t) => {
  for (let cut = 1; cut < mjpegBody.length; cut++) {
    const frames: number[] = [];
    const finder = new MjpegFrameFinder((stamp) => frames.push(stamp));
    finder.push(mjpegBody.subarray(0, cut), 0);
    finder.push(mjpegBody.subarray(cut), 0);
    if (frames.join() !== '1000.5,1040.25,1080') return t.fail(`split at ${cut}: ${frames.join()}`);
  }
  const bytewise: number[] = [];
  const finder = new MjpegFrameFinder((stamp) => bytewise.push(stamp));
  for (let index = 0; index < mjpegBody.length; index++) finder.push(mjpegBody.subarray(index, index + 1), 0);
  t.same(bytewise, [1000.5, 1040.25, 1080], 'one byte per read');
});

// Guards against counting a frame that lost its end (a server skipped bytes) with the stamp of an older frame.
t.test('a frame cut short is counted apart and the next stamp is used', async (t) => {
  const frames: number[] = [];
  const finder = new MjpegFrameFinder((stamp) => frames.push(stamp));
  const first = part(5);
  finder.push(first.subarray(0, 100), 0);
  finder.push(part(9), 0);
  t.same(frames, [9]);
  t.equal(finder.cutFrames, 1);
});

t.test('FLV tags are walked whatever the read boundaries', async (t) => {
  const expected = '18:0:false:false,9:0:true:true,9:40:true:false,9:16777296:false:false';
  for (let cut = 1; cut < flvBody.length; cut++) {
    const tags: TagInfo[] = [];
    const walker = new FlvTagWalker((tag) => tags.push(tag));
    walker.push(flvBody.subarray(0, cut), 0);
    walker.push(flvBody.subarray(cut), 0);
    const seen = tags.map((tag) => `${tag.type}:${tag.timestamp}:${tag.keyframe}:${tag.config}`).join();
    if (seen !== expected || walker.failure) return t.fail(`split at ${cut}: ${seen} ${walker.failure ?? ''}`);
  }
  t.pass('every split point');
});

t.test('a stream that is not FLV, or a tag with a bad type, is a failure, not a crash', async (t) => {
  const notFlv = new FlvTagWalker(() => undefined);
  notFlv.push(Buffer.from('HTTP/1.1 200 OK'), 0);
  t.match(notFlv.failure, /not an FLV/);
  const badTag = new FlvTagWalker(() => undefined);
  badTag.push(Buffer.concat([flvBody.subarray(0, 13), Buffer.alloc(20, 0x63)]), 0);
  t.match(badTag.failure, /bad FLV tag/);
});

t.test('a chunked response is de-chunked across any read boundary', async (t) => {
  const payload = Buffer.from('0123456789abcdefghij'.repeat(5));
  const chunked = Buffer.concat([
    Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n'),
    Buffer.from(`${(30).toString(16)}\r\n`), payload.subarray(0, 30), Buffer.from('\r\n'),
    Buffer.from(`${(payload.length - 30).toString(16)}\r\n`), payload.subarray(30), Buffer.from('\r\n'),
  ]);
  for (let cut = 1; cut < chunked.length; cut++) {
    const parts: Buffer[] = [];
    let status = 0;
    const reader = new ResponseReader({ push: (bytes) => parts.push(Buffer.from(bytes)) }, (code) => (status = code));
    reader.push(chunked.subarray(0, cut), 0);
    reader.push(chunked.subarray(cut), 0);
    if (status !== 200 || !Buffer.concat(parts).equals(payload) || reader.failure) return t.fail(`split at ${cut}`);
  }
  const refused = new ResponseReader({ push: () => undefined }, () => undefined);
  refused.push(Buffer.from('HTTP/1.1 503 Service Unavailable\r\nContent-Length: 5\r\n\r\nfull\n'), 0);
  t.equal(refused.status, 503);
  const endless = new ResponseReader({ push: () => undefined }, () => undefined);
  endless.push(Buffer.alloc(20_000, 0x41), 0);
  t.match(endless.failure, /too large/, 'a head without an end is bounded');
});
