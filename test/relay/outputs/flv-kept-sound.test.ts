import t from 'tap';
import type { AudioUnit } from '../../../adapters/types.ts';
import type { StreamConfig } from '../../../conf/types.ts';
import type { AudioTrack, H264Unit, H264Track } from '../../../media/types.ts';
import { EncodedHub } from '../../../relay/core/hub.ts';
import type { Feed } from '../../../relay/core/feed.ts';
import { Viewer, type ByteSink } from '../../../relay/core/viewer.ts';
import type { AacAudio } from '../../../relay/encoders/aac-audio.ts';
import type { SharedEncoder } from '../../../relay/encoders/shared-encoder.ts';
import { FlvOutput } from '../../../relay/outputs/flv.ts';

const track: H264Track = {
  kind: 'video', codec: 'h264', clockRate: 90000, sps: Buffer.from([0x67, 0x64, 0, 0x1f]), pps: Buffer.from([0x68, 0xee]), width: 320, height: 240,
  codecString: 'avc1.64001f', avcC: Buffer.from([1, 0x64, 0, 0x1f, 0xff, 0xe1, 0, 4, 0x67, 0x64, 0, 0x1f, 1, 0, 2, 0x68, 0xee]),
};
const SOUND: AudioTrack = { kind: 'audio', codec: 'aac', clockRate: 48000, sampleRate: 48000, channels: 1, config: Buffer.from([0x11, 0x88]) };
const FRAME_MS = 1024 / 48;

/** The media tags a viewer was sent after the FLV header, as [type (8 audio, 9 video), time in ms]: no metadata or codec configuration. */
function tagsOf(bytes: Buffer): Array<[number, number]> {
  const tags: Array<[number, number]> = [];
  for (let at = 13; at + 11 <= bytes.length;) {
    const size = bytes.readUIntBE(at + 1, 3);
    // The second byte of an AVC or AAC tag's body is its packet type: 0 is the codec configuration.
    if (bytes[at] !== 18 && bytes[at + 12] === 1) tags.push([bytes[at]!, bytes.readUIntBE(at + 4, 3) | (bytes[at + 7]! << 24)]);
    at += 11 + size + 4;
  }
  return tags;
}

function recordingSink(): { sink: ByteSink; bytes(): Buffer } {
  const chunks: Buffer[] = [];
  const sink: ByteSink = { write: (chunk) => (chunks.push(chunk), true), writableLength: 0, destroyed: false, destroy: () => {}, end: () => {}, once: () => undefined };
  return { sink, bytes: () => Buffer.concat(chunks) };
}

/** A started FLV output of a live camera with sound: its picture comes from `hub`, its sound from `soundListeners`. */
function startFlvWithSound(): { hub: EncodedHub; soundListeners: Set<(unit: AudioUnit) => void>; output: FlvOutput } {
  const hub = new EncodedHub('test');
  const video = { id: 'cam#test', settings: { frameRate: 10 }, counters: { framesDropped: 0 }, groupOfPictures: [], subscribe: hub.subscribe.bind(hub), acquire: () => () => {} };
  const soundListeners = new Set<(unit: AudioUnit) => void>();
  const audio = { track: SOUND, subscribe: (listener: (unit: AudioUnit) => void) => (soundListeners.add(listener), () => soundListeners.delete(listener)) };
  const feed = { state: 'live', acquire: () => () => {} };
  const config = { name: 'cam.flv', viewerWriteTimeoutMs: 1000 } as unknown as StreamConfig;
  const output = new FlvOutput(config, feed as unknown as Feed, video as unknown as SharedEncoder, audio as unknown as AacAudio);
  output.start();
  return { hub, soundListeners, output };
}

t.test('an FLV viewer starting on the kept group gets no sound from before its keyframe, even sound that came late', async (t) => {
  // Guards: sound converted behind the picture arrived after the next keyframe and was kept with it, so newcomers' FLV started with sound up to seconds before the picture (ffprobe: -2000 ms).
  const { hub, soundListeners, output } = startFlvWithSound();
  t.teardown(() => output.close());
  const frame = (dts: number, keyframe: boolean): void => hub.publish({ track, data: [Buffer.from([keyframe ? 0x65 : 0x41, dts & 0xff])], pts: dts, dts, keyframe } satisfies H264Unit);
  const sound = (index: number): void => {
    for (const listener of soundListeners) listener({ track: SOUND, data: Buffer.from([0x21, index]), pts: index * FRAME_MS, dts: index * FRAME_MS, keyframe: true });
  };
  frame(0, true);
  frame(1000, true);
  // The converter's sound of 512-1088 ms arrives only now, behind the picture's keyframe at 1000 ms.
  for (let index = 24; index <= 50; index++) sound(index);
  frame(1100, false);
  const newcomer = recordingSink();
  output.attach(new Viewer(newcomer.sink, { budgetBytes: 1 << 20, hardLimitBytes: 1 << 22, writeTimeoutMs: 1000 }, '127.0.0.1', 'test'));
  const media = tagsOf(newcomer.bytes());
  const keyframeAt = media.find(([type]) => type === 9)![1];
  const audioTimes = media.filter(([type]) => type === 8).map(([, time]) => time);
  t.ok(audioTimes.length > 0, `${audioTimes.length} kept audio tags`);
  t.equal(media[0]![0], 9, 'the first media tag is the keyframe');
  t.ok(audioTimes.every((time) => time + FRAME_MS > keyframeAt), `no kept sound ends before the keyframe at ${keyframeAt} ms: ${audioTimes.join(' ')}`);
});

t.test('sound that first comes while the picture has stopped for a second goes out at once', async (t) => {
  // Guards the interleaver made with the first sound: it must know when the last picture went out, or this sound waits for a picture that is not coming.
  const { hub, soundListeners, output } = startFlvWithSound();
  t.teardown(() => output.close());
  hub.publish({ track, data: [Buffer.from([0x65, 0])], pts: 0, dts: 0, keyframe: true } satisfies H264Unit);
  const viewer = recordingSink();
  output.attach(new Viewer(viewer.sink, { budgetBytes: 1 << 20, hardLimitBytes: 1 << 22, writeTimeoutMs: 1000 }, '127.0.0.1', 'test'));
  await new Promise((resolve) => setTimeout(resolve, 1_100));
  for (const listener of soundListeners) listener({ track: SOUND, data: Buffer.from([0x21, 0]), pts: 10, dts: 10, keyframe: true });
  t.same(tagsOf(viewer.bytes()).map(([type]) => type), [9, 8], 'the keyframe, then the sound without waiting for another picture');
});

t.test('a viewer that started on a keyframe gets no sound from before it that the converter delivers afterwards', async (t) => {
  // Guards: under load the G.711 converter ran seconds behind the picture, and a viewer starting on the kept group got its late sound of the seconds before (ffprobe: -2944 ms).
  const { hub, soundListeners, output } = startFlvWithSound();
  t.teardown(() => output.close());
  const frame = (dts: number, keyframe: boolean): void => hub.publish({ track, data: [Buffer.from([keyframe ? 0x65 : 0x41, dts & 0xff])], pts: dts, dts, keyframe } satisfies H264Unit);
  const sound = (index: number): void => {
    for (const listener of soundListeners) listener({ track: SOUND, data: Buffer.from([0x21, index]), pts: index * FRAME_MS, dts: index * FRAME_MS, keyframe: true });
  };
  const attach = (): (() => Buffer) => {
    const sink = recordingSink();
    output.attach(new Viewer(sink.sink, { budgetBytes: 1 << 20, hardLimitBytes: 1 << 22, writeTimeoutMs: 1000 }, '127.0.0.1', 'test'));
    return sink.bytes;
  };
  frame(0, true);
  const watching = attach();
  frame(1000, true);
  const newcomer = attach();
  // The converter's sound of 512-1088 ms arrives after the newcomer started on the keyframe at 1000 ms.
  for (let index = 24; index <= 50; index++) sound(index);
  frame(1100, false);
  const newcomerAudio = tagsOf(newcomer()).filter(([type]) => type === 8).map(([, time]) => time);
  t.ok(newcomerAudio.length > 0, `${newcomerAudio.length} audio tags for the newcomer`);
  t.ok(newcomerAudio.every((time) => time + FRAME_MS > 1000), `no sound ending before its keyframe at 1000 ms: ${newcomerAudio.join(' ')}`);
  t.equal(tagsOf(watching()).filter(([type]) => type === 8).length, 27, 'the viewer watching since 0 ms hears all of it');
});
