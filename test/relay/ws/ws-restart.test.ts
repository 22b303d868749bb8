// Guards: after an encoder restart the WebSocket units went back in time (the new run starts on the camera's kept frames, already sent).
import { EventEmitter } from 'node:events';
import t from 'tap';
import type { H264Listener, H264Unit, H264Source } from '../../../media/types.ts';
import { Viewer } from '../../../relay/core/viewer.ts';
import { WsStream } from '../../../relay/outputs/ws/stream.ts';
import { startTestEncodedSource } from '../../helpers/encoded-source.ts';
import { waitFor } from '../../helpers/probe.ts';

/** A socket as the viewer sees it, keeping every WebSocket frame written. */
class CollectingSink extends EventEmitter {
  readonly written: Buffer[] = [];
  destroyed = false;
  writableLength = 0;
  write(bytes: Buffer): boolean {
    this.written.push(bytes);
    return true;
  }
  destroy(): void {
    this.destroyed = true;
    this.emit('close');
  }
  end(): void {
    this.emit('close');
  }
}

/** An encoder the test drives: frames are published when the test says. */
class ScriptedSource implements H264Source {
  readonly id = 'scripted';
  track: H264Unit['track'] | undefined;
  readonly groupOfPictures: H264Unit[] = [];
  private listener: H264Listener | undefined;
  subscribe(listener: H264Listener): () => void {
    this.listener = listener;
    return () => (this.listener = undefined);
  }
  acquire(): () => void {
    return () => undefined;
  }
  publish(frame: H264Unit): void {
    this.track = frame.track;
    this.listener?.(frame);
  }
}

/** The payload of each server frame (unmasked, one frame per message) whose opcode is `opcode`. */
function messages(chunks: Buffer[], opcode: number): Buffer[] {
  return chunks.filter((chunk) => (chunk[0]! & 0x0f) === opcode).map((chunk) => {
    const length = chunk[1]! & 0x7f;
    return chunk.subarray(length < 126 ? 2 : length === 126 ? 4 : 10);
  });
}

/** Real H.264 from ffmpeg, a keyframe every 4 frames: 8 frames from a keyframe on. */
async function recordRun(t: { teardown(fn: () => void): void }): Promise<H264Unit[]> {
  const encoder = startTestEncodedSource({ rate: 25, gop: 4 });
  t.teardown(() => encoder.stop());
  const recorded: H264Unit[] = [];
  encoder.hub.subscribe((frame) => void recorded.push(frame));
  await waitFor(() => recorded.filter((frame) => frame.keyframe).length >= 3, 15_000, 'three keyframes from ffmpeg');
  encoder.stop();
  const firstKey = recorded.findIndex((frame) => frame.keyframe);
  return recorded.slice(firstKey, firstKey + 8);
}

const limits = { budgetBytes: 1e7, hardLimitBytes: 1e8, writeTimeoutMs: 10_000 };
const rawTimes = (sink: CollectingSink): number[] => messages(sink.written, 2).map((unit) => Number(unit.readBigUInt64BE(4)));

t.test('after an encoder restart that starts on frames already sent, raw and fMP4 times keep rising', async (t) => {
  const run = await recordRun(t);
  const source = new ScriptedSource();
  const stream = new WsStream({ source, live: () => true, frameRate: 25 }, 1000);
  t.teardown(() => stream.close());
  const sinks = { raw: new CollectingSink(), fmp4: new CollectingSink() };
  stream.join(new Viewer(sinks.raw, limits, '127.0.0.1', 'ws'), 'raw');
  stream.join(new Viewer(sinks.fmp4, limits, '127.0.0.1', 'ws'), 'fmp4');
  for (const frame of run) source.publish(frame);
  // The restarted encoder: a new track, starting again on the last group (keyframe at run[4]) with the same times.
  const restartedTrack = { ...run[0]!.track };
  const last = run.at(-1)!;
  for (const frame of run.slice(4)) source.publish({ ...frame, track: restartedTrack });
  // Then its own new frames, one interval apart.
  for (let index = 1; index <= 4; index++) source.publish({ ...run[5 + (index % 3)]!, track: restartedTrack, pts: last.pts + index * 40, dts: last.dts + index * 40 });

  const configs = messages(sinks.raw.written, 1).filter((text) => JSON.parse(text.toString()).type === 'config');
  t.equal(configs.length, 2, 'the raw viewer is told of the new track');
  const times = rawTimes(sinks.raw);
  t.equal(times.length, 16, 'every frame reached the raw viewer');
  t.ok(times.every((time, index) => index === 0 || time > times[index - 1]!), `raw timestamps rise: ${times.join(' ')}`);

  // fMP4: each moof's tfdt (baseMediaDecodeTime, version 1: 64 bits after the box's version and flags).
  const decodeTimes = messages(sinks.fmp4.written, 2).filter((box) => box.subarray(4, 8).toString('latin1') === 'moof').map((moof) => {
    const at = moof.indexOf('tfdt', 0, 'latin1');
    return moof[at + 4] === 1 ? Number(moof.readBigUInt64BE(at + 8)) : moof.readUInt32BE(at + 8);
  });
  t.equal(decodeTimes.length, 16, 'every frame reached the fMP4 viewer');
  t.ok(decodeTimes.every((time, index) => index === 0 || time > decodeTimes[index - 1]!), `fMP4 decode times rise: ${decodeTimes.join(' ')}`);
});

// Guards: a viewer that joined before any new frame got the kept group's frames all at time 0 (the zero was set by the next new frame only).
t.test('a first viewer joining on the kept group gets its frames at rising times', async (t) => {
  const run = await recordRun(t);
  const source = new ScriptedSource();
  source.groupOfPictures.push(...run.slice(0, 4));
  source.track = run[0]!.track;
  const stream = new WsStream({ source, live: () => true, frameRate: 25 }, 1000);
  t.teardown(() => stream.close());
  const sink = new CollectingSink();
  stream.join(new Viewer(sink, limits, '127.0.0.1', 'ws'), 'raw');
  for (const frame of run.slice(4)) source.publish(frame);
  const times = rawTimes(sink);
  t.equal(times.length, 8, 'the kept group, then the new frames');
  t.ok(times.every((time, index) => index === 0 || time > times[index - 1]!), `raw timestamps rise: ${times.join(' ')}`);
});

// Guards: frames sharing one time at an encoder start: the zero was set by the first frame passing by, and a viewer
// whose hello came later got the kept group's older frames all cut to time 0.
t.test('a viewer joining after a frame passed with nobody watching still gets one rising time per frame', async (t) => {
  const run = await recordRun(t);
  const source = new ScriptedSource();
  source.groupOfPictures.push(...run.slice(0, 3));
  source.track = run[0]!.track;
  const stream = new WsStream({ source, live: () => true, frameRate: 25 }, 1000);
  t.teardown(() => stream.close());
  // The encoder's next frame comes out between the upgrade (the stream is made) and the viewer's hello.
  source.groupOfPictures.push(run[3]!);
  source.publish(run[3]!);
  const sink = new CollectingSink();
  stream.join(new Viewer(sink, limits, '127.0.0.1', 'ws'), 'raw');
  for (const frame of run.slice(4)) source.publish(frame);
  const times = rawTimes(sink);
  t.equal(times.length, 8, 'the kept group, then the new frames');
  t.ok(times.every((time, index) => index === 0 || time > times[index - 1]!), `raw timestamps rise: ${times.join(' ')}`);
  t.same(times.map((time) => Math.round((time - times[0]!) / 1000)), run.map((frame) => frame.pts - run[0]!.pts), 'spaced as the encoder made them');
});
