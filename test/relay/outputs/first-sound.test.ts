import t from 'tap';
import type { AudioUnit } from '../../../adapters/types.ts';
import type { StreamConfig } from '../../../conf/types.ts';
import type { AudioTrack, H264Track, H264Unit } from '../../../media/types.ts';
import { EncodedHub } from '../../../relay/core/hub.ts';
import type { Feed } from '../../../relay/core/feed.ts';
import type { AacAudio } from '../../../relay/encoders/aac-audio.ts';
import type { SharedEncoder } from '../../../relay/encoders/shared-encoder.ts';
import { HlsOutput } from '../../../relay/outputs/hls.ts';
import { WsSound } from '../../../relay/outputs/ws/sound.ts';

// Guards sound first heard after the picture stopped: HLS and WebSocket must let it out at once, not wait for a picture
// that is not coming.

const track: H264Track = {
  kind: 'video', codec: 'h264', clockRate: 90000, sps: Buffer.from([0x67, 0x64, 0, 0x1f]), pps: Buffer.from([0x68, 0xee]), width: 320, height: 240,
  codecString: 'avc1.64001f', avcC: Buffer.from([1, 0x64, 0, 0x1f, 0xff, 0xe1, 0, 4, 0x67, 0x64, 0, 0x1f, 1, 0, 2, 0x68, 0xee]),
};
const SOUND: AudioTrack = { kind: 'audio', codec: 'aac', clockRate: 48000, sampleRate: 48000, channels: 1, config: Buffer.from([0x11, 0x88]) };
const keyframe: H264Unit = { track, data: [Buffer.from([0x65, 0])], pts: 0, dts: 0, keyframe: true };
const soundAt10: AudioUnit = { track: SOUND, data: Buffer.from([0x21, 0]), pts: 10, dts: 10, keyframe: true };

/** A camera's AAC part as the outputs see it: `hear` sends them a frame. */
function soundSource(): { audio: AacAudio & { cameraHasSound(): boolean; recent(): AudioUnit[] }; hear(unit: AudioUnit): void } {
  const listeners = new Set<(unit: AudioUnit) => void>();
  const audio = {
    track: SOUND, cameraHasSound: () => true, recent: () => [],
    subscribe: (listener: (unit: AudioUnit) => void) => (listeners.add(listener), () => listeners.delete(listener)),
  };
  return { audio: audio as unknown as AacAudio & { cameraHasSound(): boolean; recent(): AudioUnit[] }, hear: (unit) => listeners.forEach((listener) => listener(unit)) };
}

const pictureStops = (): Promise<unknown> => new Promise((resolve) => setTimeout(resolve, 1_100));

t.test('HLS: sound that first comes while the picture has stopped for a second goes into the packager at once', async (t) => {
  const hub = new EncodedHub('test');
  const video = { id: 'cam#test', settings: { frameRate: 10 }, counters: { framesDropped: 0, framesOut: 0 }, groupOfPictures: [], subscribe: hub.subscribe.bind(hub), acquire: () => () => {} };
  const feed = { state: 'live', counters: { lastAudioAt: undefined }, announcedAudioTrack: undefined, acquire: () => () => {} };
  const config = { name: 'cam.m3u8', hlsSegmentSeconds: 2, hlsListSize: 3, lowLatency: false } as unknown as StreamConfig;
  const { audio, hear } = soundSource();
  const output = new HlsOutput(config, feed as unknown as Feed, video as unknown as SharedEncoder, audio);
  const packaged: AudioUnit[] = [];
  const pushAudio = output.packager.pushAudio.bind(output.packager);
  output.packager.pushAudio = (unit) => (packaged.push(unit as AudioUnit), pushAudio(unit));
  output.start();
  t.teardown(() => output.close());
  hub.publish(keyframe);
  await pictureStops();
  hear(soundAt10);
  t.same(packaged, [soundAt10], 'the sound, without waiting for another picture');
});

t.test('WebSocket: sound that first comes while the picture has stopped for a second goes out at once', async (t) => {
  const { audio, hear } = soundSource();
  const emitted: AudioUnit[] = [];
  const sound = new WsSound(audio, (unit) => emitted.push(unit));
  t.teardown(() => sound.close());
  sound.video(0, true);
  await pictureStops();
  hear(soundAt10);
  t.same(emitted, [soundAt10], 'the sound, without waiting for another picture');
});
