import { execFile, spawn } from 'node:child_process';
import { payloadBytes } from '../../helpers/sink.ts';
import { promisify } from 'node:util';
import t from 'tap';
import { FlvH264Reader } from '../../../adapters/http-flv/flv-h264.ts';
import { AdapterError } from '../../../adapters/errors.ts';
import type { AudioUnit } from '../../../adapters/types.ts';
import type { H264Unit } from '../../../media/types.ts';
import { prng } from '../../helpers/prng.ts';

const run = promisify(execFile);

/** A short FLV made by ffmpeg from a test pattern, with the given codec arguments. */
async function makeFlv(args: string[]): Promise<Buffer> {
  const { stdout } = await run('ffmpeg', ['-hide_banner', '-loglevel', 'error', ...args, '-f', 'flv', 'pipe:1'],
    { encoding: 'buffer', maxBuffer: 64 * 1024 * 1024, timeout: 60_000 });
  return stdout;
}

const H264_ARGS = ['-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=10', '-t', '2', '-c:v', 'libx264', '-preset', 'ultrafast',
  '-g', '10', '-pix_fmt', 'yuv420p'];

/** Feeds `bytes` in chunks of random sizes; returns the frames or the error push() threw. */
function readAll(bytes: Buffer, random: () => number, maxFrameBytes = 4 * 1024 * 1024): { frames: H264Unit[]; error?: unknown } {
  const reader = new FlvH264Reader(maxFrameBytes);
  const frames: H264Unit[] = [];
  try {
    for (let offset = 0; offset < bytes.length;) {
      const size = 1 + Math.floor(random() * 4000);
      frames.push(...reader.push(bytes.subarray(offset, offset + size)));
      offset += size;
    }
  } catch (error) {
    return { frames, error };
  }
  return { frames };
}

/** ffprobe's view of an Annex B elementary stream given on stdin. */
async function probeAnnexB(data: Buffer): Promise<{ codec_name: string; width: number; height: number; nb_read_frames: string }> {
  const child = spawn('ffprobe', ['-v', 'error', '-f', 'h264', '-count_frames', '-select_streams', 'v:0',
    '-show_entries', 'stream=codec_name,width,height,nb_read_frames', '-of', 'json', 'pipe:0'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const chunks: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
  child.stdin.end(data);
  await new Promise((resolve) => child.on('close', resolve));
  return JSON.parse(Buffer.concat(chunks).toString()).streams[0];
}

t.test('a real H.264 FLV becomes Annex B access units that ffprobe decodes, whatever the chunking', async (t) => {
  const flv = await makeFlv(H264_ARGS);
  const { frames, error } = readAll(flv, prng(1));
  t.equal(error, undefined);
  t.equal(frames.length, 20, 'two seconds at 10 fps');
  t.ok(frames[0]!.keyframe, 'starts on a keyframe');
  t.equal(frames.filter((frame) => frame.keyframe).length, 2, 'a keyframe every 10 frames');
  t.same(payloadBytes(frames[0]!).subarray(0, 5), Buffer.from([0, 0, 0, 1, 0x67]), 'keyframes open with the SPS');
  t.same(frames.map((frame) => frame.pts).slice(0, 3), [0, 100, 200], 'the FLV timestamps, in ms');
  const whole = readAll(flv, () => 0.999);
  t.same(whole.frames.map((frame) => payloadBytes(frame).length), frames.map((frame) => payloadBytes(frame).length), 'same frames in other chunks');
  const probed = await probeAnnexB(Buffer.concat(frames.map(payloadBytes)));
  t.same([probed.codec_name, probed.width, probed.height, probed.nb_read_frames], ['h264', 320, 240, '20']);
});

t.test('without an audio taker, audio tags are skipped', async (t) => {
  const flv = await makeFlv(['-f', 'lavfi', '-i', 'sine=frequency=440', ...H264_ARGS, '-c:a', 'aac', '-shortest']);
  const reader = new FlvH264Reader(4 * 1024 * 1024);
  const frames = reader.push(flv);
  t.equal(frames.length, 20);
  t.ok(reader.skippedTags > 10, `${reader.skippedTags} audio and metadata tags skipped`);
});

t.test('with an audio taker, AAC tags become audio units on the video tags\' clock', async (t) => {
  const flv = await makeFlv(['-f', 'lavfi', '-i', 'sine=frequency=1000:sample_rate=48000', ...H264_ARGS, '-c:a', 'aac', '-ac', '1', '-shortest']);
  const audio: AudioUnit[] = [];
  const reader = new FlvH264Reader(4 * 1024 * 1024, (unit) => audio.push(unit));
  const frames = reader.push(flv);
  t.equal(frames.length, 20);
  t.ok(audio.length >= 90, `${audio.length} AAC frames for 2 s at 48 kHz`);
  t.match(audio[0]!.track, { kind: 'audio', codec: 'aac', sampleRate: 48000, channels: 1 });
  t.ok(Math.abs(audio[0]!.pts - frames[0]!.pts) <= 45, 'sound and picture start together');
  t.ok(audio.every((unit, index) => index === 0 || unit.pts > audio[index - 1]!.pts), 'times increase');
  t.ok(audio.at(-1)!.pts >= 1900, 'spread over the stream\'s 2 s, in ms');
  t.equal(reader.skippedTags, 1, 'only the metadata tag is skipped');
});

t.test('an AAC configuration that cannot be read leaves the sound out, said once, and the picture plays on', async (t) => {
  // Guards the picture against bad sound: a broken AudioSpecificConfig failed the whole stream as "bad H.264".
  const flv = await makeFlv(['-f', 'lavfi', '-i', 'sine=frequency=1000:sample_rate=48000', ...H264_ARGS, '-c:a', 'aac', '-ac', '1', '-shortest']);
  let patched = 0;
  for (let offset = 13; offset + 11 < flv.length; offset += 11 + flv.readUIntBE(offset + 1, 3) + 4) {
    if (flv[offset] === 8 && flv[offset + 12] === 0) {
      flv[offset + 13] = 0; // object type 0: no AAC at all
      flv[offset + 14] = 0;
      patched++;
    }
  }
  t.equal(patched, 1, 'the one AAC sequence header spoiled');
  const audio: AudioUnit[] = [];
  const reasons: string[] = [];
  const reader = new FlvH264Reader(4 * 1024 * 1024, (unit) => audio.push(unit), (reason) => reasons.push(reason));
  t.equal(reader.push(flv).length, 20, 'every picture');
  t.equal(audio.length, 0);
  t.equal(reasons.length, 1, 'said once');
  t.match(reasons[0], /^the FLV stream's sound cannot be read: .*object type 0/);
});

t.test('an FLV of another video codec is refused, naming the codec', async (t) => {
  const flv = await makeFlv(['-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=10', '-t', '1', '-c:v', 'flv1']);
  const { frames, error } = readAll(flv, prng(2));
  t.equal(frames.length, 0);
  t.ok(error instanceof AdapterError);
  t.equal((error as AdapterError).code, 'PROTOCOL');
  t.equal((error as AdapterError).message, 'the FLV stream carries Sorenson H.263 video (codec id 2), not H.264');
});

t.test('an audio-only FLV is refused at its header', async (t) => {
  const flv = await makeFlv(['-f', 'lavfi', '-i', 'sine=frequency=440', '-t', '1', '-c:a', 'aac']);
  const { error } = readAll(flv, prng(3));
  t.equal((error as AdapterError).message, 'the FLV stream announces no video');
});

t.test('enhanced FLV (HEVC by FourCC) is refused', async (t) => {
  const header = Buffer.from('464c5601010000000900000000', 'hex');
  const data = Buffer.concat([Buffer.from([0x90]), Buffer.from('hvc1'), Buffer.alloc(10)]);
  const tag = Buffer.concat([Buffer.from([9, 0, 0, data.length, 0, 0, 0, 0, 0, 0, 0]), data, Buffer.alloc(4)]);
  const { error } = readAll(Buffer.concat([header, tag]), prng(4));
  t.equal((error as AdapterError).message, 'the FLV stream carries hvc1 video (enhanced FLV), not H.264');
});

t.test('garbage, an HTML page and a wrong header size are clear PROTOCOL errors', async (t) => {
  const random = prng(5);
  const garbage = Buffer.from(Array.from({ length: 5000 }, () => Math.floor(random() * 256)));
  garbage[0] = 0x00;
  const cases: Array<[string, Buffer, RegExp]> = [
    ['random bytes', garbage, /does not start with an FLV header/],
    ['an HTML page', Buffer.from('<html><body>502 Bad Gateway</body></html>'), /does not start with an FLV header/],
    ['header size 200', Buffer.from('464c560101000000c800000000', 'hex'), /unexpected FLV header size 200/],
  ];
  for (const [what, bytes, message] of cases) {
    const { error } = readAll(bytes, random);
    t.ok(error instanceof AdapterError && error.code === 'PROTOCOL', `${what}: PROTOCOL`);
    t.match((error as Error).message, message, what);
  }
});

t.test('an oversized tag is refused from its header, before its data is buffered', async (t) => {
  const header = Buffer.from('464c5601010000000900000000', 'hex');
  const tagHeader = Buffer.from([9, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0]);
  const reader = new FlvH264Reader(1024 * 1024);
  t.throws(() => reader.push(Buffer.concat([header, tagHeader, Buffer.alloc(100)])),
    { code: 'PROTOCOL', message: 'FLV tag of 16777215 bytes is larger than the 1048640 byte limit' });
});

t.test('a broken sequence header and broken NAL lengths are PROTOCOL errors', async (t) => {
  const flv = await makeFlv(H264_ARGS);
  const reader = new FlvH264Reader(4 * 1024 * 1024);
  const tags = splitTags(flv);
  const sequenceHeader = tags.find((tag) => tag[0] === 9 && tag[12] === 0)!;
  const broken = Buffer.from(sequenceHeader);
  broken.fill(0xff, 16, broken.length - 4); // avcC body garbled
  t.throws(() => reader.push(Buffer.concat([flv.subarray(0, 13), broken])), { code: 'PROTOCOL', message: /bad H\.264 in FLV/ });
  const second = new FlvH264Reader(4 * 1024 * 1024);
  const frame = Buffer.from(tags.find((tag) => tag[0] === 9 && tag[12] === 1)!);
  frame.writeUInt32BE(0x7fffffff, 16); // first NAL length runs past the tag
  t.throws(() => second.push(Buffer.concat([flv.subarray(0, 13), sequenceHeader, frame])), { code: 'PROTOCOL', message: /runs past the payload/ });
});

t.test('fuzz: 300 mutated FLV streams yield frames or an AdapterError, nothing else', async (t) => {
  const flv = await makeFlv(H264_ARGS);
  let failures = 0;
  for (let seed = 1; seed <= 300; seed++) {
    const random = prng(seed);
    const mutated = Buffer.from(flv.subarray(0, Math.floor(flv.length * (0.2 + random() * 0.8))));
    for (let i = 0; i < 1 + Math.floor(random() * 20); i++) mutated[Math.floor(random() * mutated.length)] = Math.floor(random() * 256);
    const { error } = readAll(mutated, random, 256 * 1024);
    if (error === undefined) continue;
    failures++;
    if (!(error instanceof AdapterError)) t.fail(`seed ${seed}: ${(error as Error).stack}`);
  }
  t.ok(failures > 0, `${failures} of 300 mutated streams were refused with an AdapterError`);
});

/** The tags of an FLV file, each with its 11-byte header and trailing size. */
function splitTags(flv: Buffer): Buffer[] {
  const tags: Buffer[] = [];
  for (let offset = 13; offset + 11 <= flv.length;) {
    const size = 11 + flv.readUIntBE(offset + 1, 3) + 4;
    tags.push(flv.subarray(offset, offset + size));
    offset += size;
  }
  return tags;
}
