import t, { type Test } from 'tap';
import { AdapterError } from '../../../adapters/errors.ts';
import { ProtocolError } from '../../../media/errors.ts';
import { H264Depacketizer, parseSpropParameterSets } from '../../../media/rtp/h264-depacketizer.ts';
import { frameInterleaved, InterleavedDemuxer, MAX_BUFFERED_BYTES } from '../../../media/rtsp/interleaved.ts';
import { JpegDepacketizer } from '../../../media/rtp/jpeg-depacketizer.ts';
import { parseMessage, parseStatusLine } from '../../../media/rtsp/message.ts';
import { parseRtpPacket, RtpReorderer } from '../../../media/rtp/rtp.ts';
import { parseSdp } from '../../../media/rtsp/sdp.ts';
import { pickVideoMedia } from '../../../adapters/rtsp/track.ts';
import { findSenderReport } from '../../../media/rtp/rtcp.ts';
import { fuA, nal, prng, rtpBytes, stapA } from './rtp-builder.ts';

const RUNS = 100_000;
const INTERESTING = [0x00, 0xff, 0x24, 0x0d, 0x0a, 0x3a, 0x20, 0x80, 0x7f, 0x3d, 0x2c, 0x3b];

/** Mutates `input` with a few random edits: byte flips, interesting bytes, inserts, deletes, truncation, repeats. */
function mutate(input: Buffer, random: () => number): Buffer {
  let bytes = Buffer.from(input);
  const edits = 1 + Math.floor(random() * 4);
  const at = (): number => Math.floor(random() * (bytes.length + 1));
  for (let i = 0; i < edits; i++) {
    const kind = Math.floor(random() * 6);
    const position = at();
    if (kind === 0 && bytes.length > 0) bytes[position % bytes.length] = bytes[position % bytes.length]! ^ (1 << Math.floor(random() * 8));
    else if (kind === 1 && bytes.length > 0) bytes[position % bytes.length] = INTERESTING[Math.floor(random() * INTERESTING.length)]!;
    else if (kind === 2) bytes = Buffer.concat([bytes.subarray(0, position), randomBytes(random, 1 + Math.floor(random() * 8)), bytes.subarray(position)]);
    else if (kind === 3) bytes = Buffer.concat([bytes.subarray(0, position), bytes.subarray(position + 1 + Math.floor(random() * 16))]);
    else if (kind === 4) bytes = bytes.subarray(0, position);
    else bytes = Buffer.concat([bytes.subarray(0, position), bytes.subarray(position, position + 32), bytes.subarray(position)]);
  }
  return bytes;
}

function randomBytes(random: () => number, count: number): Buffer {
  const bytes = Buffer.alloc(count);
  for (let i = 0; i < count; i++) bytes[i] = Math.floor(random() * 256);
  return bytes;
}

/** Half mutated seeds, half pure noise. */
function input(seeds: Buffer[], random: () => number): Buffer {
  if (random() < 0.5) return mutate(seeds[Math.floor(random() * seeds.length)]!, random);
  return randomBytes(random, Math.floor(random() * 200));
}

/** Runs `body`, letting only ProtocolError through; anything else fails the test with the input. */
function expectOnlyProtocolErrors(t: Test, body: () => void, what: () => string): boolean {
  try {
    body();
    return true;
  } catch (error) {
    if ((error instanceof ProtocolError || error instanceof AdapterError) && error.code === 'PROTOCOL') return false;
    t.fail(`unexpected ${String(error)} on ${what()}`);
    throw error;
  }
}

const RESPONSE_SEEDS = [
  'RTSP/1.0 200 OK\r\nCSeq: 1\r\nPublic: OPTIONS, DESCRIBE\r\n\r\n',
  'RTSP/1.0 200 OK\r\nCSeq: 2\r\nContent-Length: 10\r\nContent-Type: application/sdp\r\n\r\nv=0\r\ns=x\r\n',
  'RTSP/1.0 401 Unauthorized\nCSeq: 3\nWWW-Authenticate: Digest realm="r", nonce="n"\n\n',
  'ANNOUNCE rtsp://cam/ RTSP/1.0\r\nCSeq: 9\r\n\r\n',
].map((text) => Buffer.from(text, 'latin1'));

t.test(`RTSP message parser: ${RUNS} random and mutated inputs`, async (t) => {
  const random = prng(1);
  let parsed = 0;
  for (let i = 0; i < RUNS; i++) {
    const bytes = input(RESPONSE_SEEDS, random);
    expectOnlyProtocolErrors(t, () => {
      const result = parseMessage(bytes);
      if (!result) return;
      parsed++;
      if (result.length > bytes.length || result.message.body.length > 65_536) t.fail('length out of range');
      if (result.message.startLine.startsWith('RTSP/')) parseStatusLine(result.message.startLine);
    }, () => bytes.toString('hex'));
  }
  t.ok(parsed > RUNS / 10, `many inputs still parse (${parsed})`);
});

t.test(`interleaved framer: ${RUNS / 10} random streams of ten chunks each`, async (t) => {
  const random = prng(2);
  const seeds = [...RESPONSE_SEEDS, frameInterleaved(0, Buffer.alloc(40, 7)), frameInterleaved(1, Buffer.alloc(3)), Buffer.from([0x24, 0, 0xff, 0xff])];
  let maxBuffered = 0;
  for (let stream = 0; stream < RUNS / 10; stream++) {
    const demuxer = new InterleavedDemuxer();
    for (let chunk = 0; chunk < 10; chunk++) {
      const bytes = input(seeds, random);
      const ok = expectOnlyProtocolErrors(t, () => void demuxer.push(bytes), () => bytes.toString('hex'));
      maxBuffered = Math.max(maxBuffered, demuxer.bufferedBytes);
      if (!ok) break;
    }
  }
  t.ok(maxBuffered <= MAX_BUFFERED_BYTES, `buffered at most ${maxBuffered} bytes`);
});

const SDP_SEED = Buffer.from('v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=x\r\nt=0 0\r\na=control:*\r\nm=video 0 RTP/AVP 96 26\r\na=rtpmap:96 H264/90000\r\na=fmtp:96 packetization-mode=1;sprop-parameter-sets=Z2QADKzZQUH7ARAAAAMAEAAAAwFA8UKZYA==,aOvjyyLA\r\na=control:stream=0\r\nm=video 0 RTP/AVP 26\r\n');

t.test(`SDP parser: ${RUNS} random and mutated inputs`, async (t) => {
  const random = prng(3);
  let parsed = 0;
  for (let i = 0; i < RUNS; i++) {
    const bytes = input([SDP_SEED], random);
    expectOnlyProtocolErrors(t, () => {
      const sdp = parseSdp(bytes.toString('utf8'));
      parsed++;
      const media = pickVideoMedia(sdp.media);
      parseSpropParameterSets(media.fmtp.get('sprop-parameter-sets'));
    }, () => bytes.toString('hex'));
  }
  t.ok(parsed > RUNS / 10, `many inputs still parse (${parsed})`);
});

/** A short valid H.264 RTP stream: SPS/PPS in a STAP-A, an IDR in FU-A fragments, and a few slices. */
function h264Seeds(): Buffer[] {
  const payloads = [stapA([nal(7, 10), nal(8, 4)]), ...fuA(nal(5, 300), 100), nal(1, 50), nal(1, 60)];
  return payloads.map((payload, i) => rtpBytes({ payloadType: 96, sequence: 1000 + i, timestamp: i < 4 ? 0 : i * 3000, marker: i >= 3 }, payload));
}

t.test(`RTP parser, reorderer and H.264 depacketizer: ${RUNS} random and mutated packets`, async (t) => {
  const random = prng(4);
  const seeds = h264Seeds();
  const maxFrameBytes = 4096;
  let depacketizer = new H264Depacketizer(maxFrameBytes);
  let reorderer = new RtpReorderer();
  let units = 0;
  for (let i = 0; i < RUNS; i++) {
    const bytes = random() < 0.3 ? seeds[i % seeds.length]! : input(seeds, random);
    const ok = expectOnlyProtocolErrors(t, () => {
      const packet = parseRtpPacket(bytes);
      for (const item of reorderer.push(packet, i)) {
        if ('lost' in item) depacketizer.markLoss();
        else units += depacketizer.push(item.packet).length;
      }
    }, () => bytes.toString('hex'));
    if (depacketizer.bufferedBytes > maxFrameBytes || reorderer.heldPackets > 16) t.fail('a buffer broke its bound');
    if (!ok && random() < 0.01) {
      depacketizer = new H264Depacketizer(maxFrameBytes);
      reorderer = new RtpReorderer();
    }
  }
  t.ok(units > 100, `access units still come out (${units})`);
});

/** A short valid RTP/JPEG image: Q 255 with in-band tables, then two more fragments. */
function jpegSeeds(): Buffer[] {
  const tables = Buffer.alloc(128, 16);
  const first = Buffer.concat([Buffer.from([0, 0, 0, 0, 1, 255, 40, 30, 0, 0, 0, 128]), tables, Buffer.alloc(100, 0x11)]);
  const second = Buffer.concat([Buffer.from([0, 0, 0, 100, 1, 255, 40, 30]), Buffer.alloc(100, 0x22)]);
  const third = Buffer.concat([Buffer.from([0, 0, 0, 200, 65, 50, 40, 30, 0, 4, 0xff, 0xff]), Buffer.alloc(50, 0x33)]);
  return [first, second, third].map((payload, i) => rtpBytes({ payloadType: 26, sequence: i, timestamp: 0, marker: i === 2 }, payload));
}

t.test(`JPEG depacketizer: ${RUNS} random and mutated packets`, async (t) => {
  const random = prng(5);
  const seeds = jpegSeeds();
  const maxFrameBytes = 4096;
  const depacketizer = new JpegDepacketizer(maxFrameBytes);
  let images = 0;
  for (let i = 0; i < RUNS; i++) {
    const bytes = random() < 0.3 ? seeds[i % seeds.length]! : input(seeds, random);
    expectOnlyProtocolErrors(t, () => {
      const packet = parseRtpPacket(bytes);
      for (const image of depacketizer.push(packet)) {
        images++;
        if (image.data[0] !== 0xff || image.data[1] !== 0xd8) t.fail('an image without SOI');
      }
    }, () => bytes.toString('hex'));
    if (depacketizer.bufferedBytes > maxFrameBytes) t.fail('the image buffer broke its bound');
  }
  t.ok(images > 100, `images still come out (${images})`);
});

t.test(`RTCP reader: ${RUNS} random and mutated inputs never throw`, async (t) => {
  const random = prng(6);
  const sr = Buffer.alloc(28);
  sr[0] = 0x80;
  sr[1] = 200;
  sr.writeUInt16BE(6, 2);
  let found = 0;
  for (let i = 0; i < RUNS; i++) {
    const bytes = input([sr, Buffer.concat([sr, sr])], random);
    try {
      if (findSenderReport(bytes, i)) found++;
    } catch (error) {
      t.fail(`unexpected ${String(error)} on ${bytes.toString('hex')}`);
      break;
    }
  }
  t.ok(found > 0, `sender reports still found (${found})`);
});
