import PQueue from 'p-queue';
import t from 'tap';
import type { AdapterSink, AudioUnit, CameraAdapter } from '../../../adapters/types.ts';
import { silentLogger } from '../../../lib/log.ts';
import { aacTrack, buildAudioSpecificConfig } from '../../../media/aac/config.ts';
import { jpegUnit } from '../../../media/types.ts';
import { Feed } from '../../../relay/core/feed.ts';
import { makeCameraConfig } from '../../helpers/camera-config.ts';
import { waitFor } from '../../helpers/probe.ts';

const JPEG = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(200, 1), Buffer.from([0xff, 0xd9])]);
const TRACK = aacTrack(buildAudioSpecificConfig({ objectType: 2, sampleRate: 48_000, channels: 1 }));
const FRAME_MS = 1024 / 48;

/** A camera whose audio clock goes back a little once (-100 ms) and jumps back ten seconds once, its picture steady. */
class JumpingAudioCamera implements CameraAdapter {
  readonly kind = 'test';
  videoSent = 0;

  async run(sink: AdapterSink): Promise<void> {
    sink.onConnected();
    let audioTime = 0;
    for (let step = 0; step < 60 && !sink.signal.aborted; step++) {
      sink.onFrame(jpegUnit(JPEG, step * 100));
      this.videoSent++;
      for (let i = 0; i < 5; i++) {
        sink.onAudio?.({ track: TRACK, data: Buffer.alloc(50), pts: audioTime, dts: audioTime, keyframe: true });
        audioTime += FRAME_MS;
      }
      if (step === 20) audioTime -= 100;
      if (step === 40) audioTime -= 10_000;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    if (!sink.signal.aborted) await new Promise((resolve) => sink.signal.addEventListener('abort', resolve, { once: true }));
  }
}

t.test('audio times that go back are dropped, a jump is re-based, both counted; the picture is untouched', async (t) => {
  const camera = new JumpingAudioCamera();
  const feed = new Feed({ camera: makeCameraConfig('test://cam'), createAdapter: () => camera, startQueue: new PQueue(), log: silentLogger });
  const audio: AudioUnit[] = [];
  feed.subscribeAudio((unit) => audio.push(unit));
  feed.start();
  t.teardown(() => feed.close());
  await waitFor(() => camera.videoSent === 60, 10_000, 'the camera\'s 60 pictures');
  t.equal(feed.counters.framesIn, 60, 'every picture kept');
  t.ok(feed.counters.audioFramesDropped >= 4 && feed.counters.audioFramesDropped <= 5, `the frames that went back dropped (${feed.counters.audioFramesDropped})`);
  t.equal(feed.counters.audioRebased, 1, 'the ten-second jump re-based once');
  t.equal(feed.counters.audioFramesIn + feed.counters.audioFramesDropped, 300, 'every frame kept or counted');
  const steps = audio.slice(1).map((unit, i) => unit.pts - audio[i]!.pts);
  t.ok(steps.every((step) => step > 0), 'kept audio times only move on');
  t.ok(steps.every((step) => step < 1000), `no jump left in the kept audio (largest step ${Math.max(...steps).toFixed(0)} ms)`);
  t.match(feed.audioTrack, { codec: 'aac', sampleRate: 48_000 });
});
