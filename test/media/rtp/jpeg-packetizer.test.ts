import { execFileSync } from 'node:child_process';
import t from 'tap';
import { JpegDepacketizer } from '../../../media/rtp/jpeg-depacketizer.ts';
import { packetizeJpeg, parseJpegForRtp, type RtpJpegImage } from '../../../media/rtp/jpeg-packetizer.ts';
import { prng } from '../../helpers/prng.ts';
import { rtpPacket } from '../../adapters/rtsp/rtp-builder.ts';

/** A JPEG from ffmpeg's encoder, with the given pixel format, size and Huffman strategy. */
function encode(pixFmt: string, size = '320x240', huffman = 'default'): Buffer {
  return execFileSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', `testsrc=size=${size}:rate=1`, '-frames:v', '1',
    '-c:v', 'mjpeg', '-huffman', huffman, '-pix_fmt', pixFmt, '-f', 'mjpeg', 'pipe:1'], { maxBuffer: 64 << 20 });
}

/** A JPEG from GStreamer's jpegenc (libjpeg), which writes 4:2:2 as 2x1 luma sampling and grey as one component. */
function encodeWithGstreamer(format: string): Buffer {
  return execFileSync('gst-launch-1.0', ['-q', 'videotestsrc', 'num-buffers=1', '!', `video/x-raw,format=${format},width=320,height=240`,
    '!', 'jpegenc', '!', 'fdsink', 'fd=1'], { maxBuffer: 64 << 20, timeout: 20_000 });
}

/** Decodes a JPEG to raw pixels with ffmpeg, to compare images by content. */
function decode(jpeg: Buffer): Buffer {
  return execFileSync('ffmpeg', ['-v', 'error', '-f', 'mjpeg', '-i', 'pipe:0', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'], { input: jpeg, maxBuffer: 64 << 20 });
}

function roundTrip(image: RtpJpegImage, maxPayload = 1400): Buffer {
  const depacketizer = new JpegDepacketizer(16 << 20);
  const payloads = packetizeJpeg(image, maxPayload);
  const images = payloads.flatMap(({ payload, marker }, index) => depacketizer.push(rtpPacket(index, 1000, payload, marker, 26)));
  if (images.length !== 1) throw new Error(`expected one image, got ${images.length}`);
  return images[0]!.data;
}

for (const [source, type] of [['ffmpeg yuvj420p', 1], ['jpegenc Y42B', 0], ['jpegenc I420', 1]] as const) {
  t.test(`a ${source} JPEG goes through RTP/JPEG and decodes to the same pixels`, async (t) => {
    const [encoder, format] = source.split(' ') as [string, string];
    const jpeg = encoder === 'ffmpeg' ? encode(format) : encodeWithGstreamer(format);
    const image = parseJpegForRtp(jpeg);
    if ('skip' in image) throw new Error(`skipped: ${image.skip}`);
    t.equal(image.type, type);
    t.equal(image.widthBlocks, 40);
    t.equal(image.heightBlocks, 30);
    const payloads = packetizeJpeg(image);
    t.ok(payloads.length > 1, 'several packets');
    t.equal(payloads[0]!.payload[5], 255, 'Q 255: tables in band');
    t.ok(payloads.every((p) => p.payload.length <= 1400));
    t.same(decode(roundTrip(image)), decode(jpeg));
  });
}

t.test('restart intervals become type 64/65 with a restart header in every packet', async (t) => {
  const jpeg = encode('yuvj420p');
  const dri = Buffer.from([0xff, 0xdd, 0x00, 0x04, 0x00, 0x00]); // interval 0 keeps the scan decodable as it is
  const withDri = Buffer.concat([jpeg.subarray(0, 2), dri, jpeg.subarray(2)]);
  withDri.writeUInt16BE(5, 6); // a restart interval the header then announces
  const image = parseJpegForRtp(withDri);
  if ('skip' in image) throw new Error(`skipped: ${image.skip}`);
  t.equal(image.type, 65);
  t.equal(image.restartInterval, 5);
  for (const { payload } of packetizeJpeg(image)) t.equal(payload.readUInt16BE(8), 5, 'interval in each packet');
});

t.test('a 2040x2040 JPEG fits; a wider one is skipped as too large', async (t) => {
  const big = parseJpegForRtp(encode('yuvj420p', '2040x2040'));
  t.notOk('skip' in big, 'the largest size the format carries');
  t.same(parseJpegForRtp(encode('yuvj420p', '2048x64')), { skip: 'size' });
});

t.test('JPEGs the format cannot carry are named, not thrown', async (t) => {
  t.same(parseJpegForRtp(encode('yuvj420p', '320x240', 'optimal')), { skip: 'huffman' }, 'optimised Huffman tables');
  t.same(parseJpegForRtp(encode('yuvj444p')), { skip: 'sampling' }, '4:4:4');
  t.same(parseJpegForRtp(encode('yuvj422p')), { skip: 'sampling' }, "ffmpeg's 4:2:2, 2x2 luma with 1x2 chroma");
  t.same(parseJpegForRtp(encodeWithGstreamer('GRAY8')), { skip: 'components' }, 'grey');
  const progressive = Buffer.from(encode('yuvj420p'));
  progressive[progressive.indexOf(Buffer.from([0xff, 0xc0])) + 1] = 0xc2;
  t.same(parseJpegForRtp(progressive), { skip: 'not-baseline' });
  t.same(parseJpegForRtp(Buffer.from('not a jpeg')), { skip: 'malformed' });
  t.same(parseJpegForRtp(Buffer.alloc(0)), { skip: 'malformed' });
});

t.test('truncated and corrupted JPEGs never throw', async (t) => {
  const jpeg = encode('yuvj420p');
  const random = prng(2435);
  let parsed = 0;
  for (let i = 0; i < 3000; i++) {
    const copy = Buffer.from(jpeg.subarray(0, Math.floor(random() * jpeg.length)));
    for (let flips = 0; flips < 3; flips++) copy[Math.floor(random() * 700) % Math.max(copy.length, 1)] = Math.floor(random() * 256);
    const result = parseJpegForRtp(copy);
    if (!('skip' in result)) {
      parsed++;
      t.ok(result.scan.length <= copy.length, 'scan within the input');
      packetizeJpeg(result);
    }
  }
  t.ok(parsed > 0, 'some cut JPEGs still have a scan to send');
});
