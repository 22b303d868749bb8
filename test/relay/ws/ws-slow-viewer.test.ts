import { createServer, connect, type Socket } from 'node:net';
import t from 'tap';
import type { AudioUnit } from '../../../adapters/types.ts';
import type { AudioTrack, H264Unit, H264Track } from '../../../media/types.ts';
import { EncodedHub } from '../../../relay/core/hub.ts';
import { Viewer, type ByteSink } from '../../../relay/core/viewer.ts';
import type { WsAudioSource } from '../../../relay/outputs/ws/sound.ts';
import { WsStream } from '../../../relay/outputs/ws/stream.ts';
import { waitFor } from '../../helpers/probe.ts';

const track: H264Track = {
  kind: 'video', codec: 'h264', clockRate: 90000, sps: Buffer.from([0x67, 0x64, 0, 0x1f]), pps: Buffer.from([0x68, 0xee]), width: 320, height: 240,
  codecString: 'avc1.64001f', avcC: Buffer.from([1, 0x64, 0, 0x1f, 0xff, 0xe1, 0, 4, 0x67, 0x64, 0, 0x1f, 1, 0, 2, 0x68, 0xee]),
};
const SOUND: AudioTrack = { kind: 'audio', codec: 'aac', clockRate: 48000, sampleRate: 48000, channels: 1, config: Buffer.from([0x11, 0x88]) };
const FRAME_BYTES = 20_000;
const LIMITS = { budgetBytes: 256 * 1024, hardLimitBytes: 1024 * 1024, writeTimeoutMs: 1000 };

/** A connected pair of real loopback sockets: the relay's end and the client's. */
async function socketPair(): Promise<{ relayEnd: Socket; clientEnd: Socket }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const accepted = new Promise<Socket>((resolve) => server.once('connection', resolve));
  const clientEnd = connect((server.address() as { port: number }).port, '127.0.0.1');
  const relayEnd = await accepted;
  server.close();
  return { relayEnd, clientEnd };
}

t.test('a WebSocket viewer that never reads drops to the next keyframe, then is cut off; one that reads gets every frame', async (t) => {
  const hub = new EncodedHub('test');
  const stream = new WsStream({ source: hub, live: () => true, frameRate: 100 }, LIMITS.writeTimeoutMs);
  t.teardown(() => stream.close());
  const reader = await socketPair();
  const stuck = await socketPair();
  let readBytes = 0;
  reader.clientEnd.on('data', (chunk: Buffer) => (readBytes += chunk.length));
  stuck.clientEnd.pause();
  t.teardown(() => {
    for (const socket of [reader.clientEnd, reader.relayEnd, stuck.clientEnd, stuck.relayEnd]) socket.destroy();
  });
  const readingViewer = new Viewer(reader.relayEnd, LIMITS, '127.0.0.1', 'ws');
  const stuckViewer = new Viewer(stuck.relayEnd, LIMITS, '127.0.0.1', 'ws');
  stream.join(readingViewer, 'raw');
  stream.join(stuckViewer, 'fmp4');
  t.equal(stream.fanouts.raw.waitingViewers.length, 1, 'no video yet: the viewer waits for a keyframe');

  let index = 0;
  let peakQueued = 0;
  const timer = setInterval(() => {
    peakQueued = Math.max(peakQueued, stuckViewer.queuedBytes);
    const frame: H264Unit = { track, data: [Buffer.alloc(FRAME_BYTES, index % 10 === 0 ? 0x65 : 0x41)], pts: index * 10, dts: index * 10, keyframe: index % 10 === 0 };
    hub.publish(frame);
    index++;
  }, 10);
  t.teardown(() => clearInterval(timer));
  const sweeper = setInterval(() => stream.sweep(Date.now()), 200);
  t.teardown(() => clearInterval(sweeper));

  await waitFor(() => stuckViewer.closed, 20_000, 'the stuck viewer to be cut off');
  t.ok(stuckViewer.drops > 0, `the stuck viewer dropped ${stuckViewer.drops} frames before it was cut off`);
  t.ok(peakQueued > LIMITS.budgetBytes && peakQueued <= LIMITS.hardLimitBytes + 2 * FRAME_BYTES, `its queue peaked at ${peakQueued} bytes: past the budget, never past the hard limit by more than a frame or two`);
  const slow = stream.fanouts.fmp4.counters.slowDisconnects;
  t.ok(slow <= 1, `cut off by the hard limit or the write timeout (${slow} write-timeout disconnects)`);
  t.notOk(readingViewer.closed, 'the reading viewer plays on');
  t.equal(readingViewer.drops, 0, 'and dropped nothing');
  t.equal(stream.viewerCount, 1, 'the stuck viewer left the stream');
  await waitFor(() => readBytes >= readingViewer.bytesSent, 5000, 'the reader to read all it was sent');
  t.ok(readingViewer.framesSent >= index - 12, `the reader got ${readingViewer.framesSent} of the ${index} frames published (all from its first keyframe)`);
});

/** A sink whose queue the test sets; each message written is recorded as [kind byte, time in ms] ([0, -1] for text). */
function recordingSink(): { sink: ByteSink; written: Array<[number, number]>; texts: Array<Record<string, unknown>>; setQueued(bytes: number): void } {
  let queued = 0;
  const written: Array<[number, number]> = [];
  const texts: Array<Record<string, unknown>> = [];
  const sink: ByteSink = {
    write: (chunk) => {
      const opcode = chunk[0]! & 0x0f;
      const at = (chunk[1]! & 0x7f) === 126 ? 4 : 2;
      if (opcode === 1) texts.push(JSON.parse(chunk.subarray(at).toString('utf8')) as Record<string, unknown>);
      written.push(opcode === 1 ? [0, -1] : [chunk[at]!, Number(chunk.readBigUInt64BE(at + 4)) / 1000]);
      return true;
    },
    get writableLength() {
      return queued;
    },
    destroyed: false,
    destroy: () => {},
    end: () => {},
    once: () => undefined,
  };
  return { sink, written, texts, setQueued: (bytes) => (queued = bytes) };
}

/** A fake AAC part: the test publishes frames of `track` (which it may replace). */
function fakeSound(track: AudioTrack): { audio: WsAudioSource; publish(index: number, on?: AudioTrack): void } {
  const listeners = new Set<(unit: AudioUnit) => void>();
  let current = track;
  const frameMs = 1024 / 48;
  return {
    audio: {
      get track() {
        return current;
      },
      subscribe: (listener) => (listeners.add(listener), () => listeners.delete(listener)),
      cameraHasSound: () => true,
      recent: () => [],
    },
    publish: (index, on = current) => {
      current = on;
      for (const listener of listeners) listener({ track: on, data: Buffer.from([0x21, index]), pts: index * frameMs, dts: index * frameMs, keyframe: true });
    },
  };
}

t.test('sound counts in a WebSocket viewer\'s budget: over it, the audio of the dropped group goes with its video', async (t) => {
  const hub = new EncodedHub('test');
  const { audio, publish: sound$ } = fakeSound(SOUND);
  const stream = new WsStream({ source: hub, live: () => true, frameRate: 25, audio }, LIMITS.writeTimeoutMs);
  t.teardown(() => stream.close());
  const { sink, written, setQueued } = recordingSink();
  let queued = 0;
  const viewer = new Viewer(sink, LIMITS, '127.0.0.1', 'ws');
  stream.join(viewer, 'raw', true);
  const video = (dts: number, keyframe = false): void => {
    setQueued(queued);
    hub.publish({ track, data: [Buffer.from([keyframe ? 0x65 : 0x41, 0])], pts: dts, dts, keyframe });
  };
  const frameMs = 1024 / 48;
  video(0, true);
  sound$(0);
  video(40); // lets out sound 0
  queued = LIMITS.budgetBytes + 1;
  sound$(1);
  video(80); // sound 1 is over the budget: dropped, and the viewer waits for a keyframe
  queued = 0;
  sound$(2);
  sound$(3);
  video(120); // the group is being dropped: sound 2 and 3 with it, though the queue is empty now
  sound$(4);
  video(160, true); // sound 4 ends before the keyframe: it belonged to the dropped group
  sound$(8);
  video(200);
  t.same(written, [[0, -1], [1, 0], [2, 0], [1, 40], [1, 160], [2, 8 * frameMs], [1, 200]].map(([kind, time]) => [kind, kind === 2 ? Math.round(time! * 1000) / 1000 : time]),
    'config, then video and sound in time order; sound 1 to 4 dropped with their group; sound again from the keyframe on');
  t.equal(viewer.drops, 6, 'two video frames and four audio frames dropped');
});

t.test('new sound parameters reach only the WebSocket viewers hearing the sound', async (t) => {
  // Guards: a camera's new sound parameters re-sent the video config to video-only viewers, whose decoders then waited for a keyframe.
  const hub = new EncodedHub('test');
  const { audio, publish } = fakeSound(SOUND);
  const stream = new WsStream({ source: hub, live: () => true, frameRate: 25, audio }, LIMITS.writeTimeoutMs);
  t.teardown(() => stream.close());
  const hearing = recordingSink();
  const videoOnly = recordingSink();
  stream.join(new Viewer(hearing.sink, LIMITS, '127.0.0.1', 'ws'), 'raw', true);
  stream.join(new Viewer(videoOnly.sink, LIMITS, '127.0.0.1', 'ws'), 'raw', false);
  hub.publish({ track, data: [Buffer.from([0x65, 0])], pts: 0, dts: 0, keyframe: true });
  publish(0);
  const stereo: AudioTrack = { ...SOUND, channels: 2, config: Buffer.from([0x11, 0x90]) };
  publish(2, stereo);
  hub.publish({ track, data: [Buffer.from([0x41, 0])], pts: 80, dts: 80, keyframe: false });
  t.same(videoOnly.texts.map((text) => text.audio), [null], 'the video-only viewer got its one config, no other');
  t.same(hearing.texts.map((text) => (text.audio as { channels: number }).channels), [1, 2], 'the one hearing got the new sound parameters');
  t.same(hearing.written.map(([kind]) => kind), [0, 1, 2, 0, 2, 1], 'config, keyframe, sound, new config, sound, frame');
});

t.test('a viewer starting on the kept group gets no sound from before its first picture, even sound that came late', async (t) => {
  // Guards: sound from before the kept keyframe that arrived after it went to a newcomer ahead of the picture (ffprobe saw sound start 0.7 s early).
  const hub = new EncodedHub('test');
  const { audio, publish } = fakeSound(SOUND);
  const stream = new WsStream({ source: hub, live: () => true, frameRate: 10, audio }, LIMITS.writeTimeoutMs);
  t.teardown(() => stream.close());
  hub.publish({ track, data: [Buffer.from([0x65, 0])], pts: 0, dts: 0, keyframe: true });
  hub.publish({ track, data: [Buffer.from([0x65, 1])], pts: 1000, dts: 1000, keyframe: true });
  // The camera's sound of 512-1088 ms comes only now, behind the encoder's picture.
  for (let index = 24; index <= 50; index++) publish(index);
  hub.publish({ track, data: [Buffer.from([0x41, 2])], pts: 1100, dts: 1100, keyframe: false });
  const newcomer = recordingSink();
  stream.join(new Viewer(newcomer.sink, LIMITS, '127.0.0.1', 'ws'), 'raw', true);
  const binaries = newcomer.written.filter(([kind]) => kind > 0);
  t.same(binaries.filter(([kind]) => kind === 1).map(([, time]) => time), [1000, 1100], 'the kept group: its keyframe, then its frame');
  const sound = binaries.filter(([kind]) => kind === 2).map(([, time]) => time);
  t.ok(sound.length > 0, `${sound.length} kept audio frames`);
  t.ok(sound.every((time) => time + 1024 / 48 > 1000), `no kept sound ends before the first picture (1000 ms): ${sound.map((time) => time.toFixed(0)).join(' ')}`);
  t.equal(binaries[0]![0], 1, 'the first unit is the keyframe');
});

t.test('after an encoder restart moves the picture\'s times on, the sound moves with it', async (t) => {
  // Guards: a restarted encoder's frames were shifted past those already sent while the sound kept the camera's times: sound and picture then stayed apart by the shift.
  const hub = new EncodedHub('test');
  const { audio, publish } = fakeSound(SOUND);
  const stream = new WsStream({ source: hub, live: () => true, frameRate: 10, audio }, LIMITS.writeTimeoutMs);
  t.teardown(() => stream.close());
  const hearing = recordingSink();
  stream.join(new Viewer(hearing.sink, LIMITS, '127.0.0.1', 'ws'), 'raw', true);
  const frameMs = 1024 / 48;
  let soundIndex = 0;
  const frame = (on: H264Track, dts: number, keyframe: boolean): void => {
    // The camera's sound up to this picture's time comes first, as it does live.
    for (; soundIndex * frameMs <= dts; soundIndex++) publish(soundIndex);
    hub.publish({ track: on, data: [Buffer.from([keyframe ? 0x65 : 0x41, dts & 0xff])], pts: dts, dts, keyframe });
  };
  for (let dts = 0; dts <= 500; dts += 100) frame(track, dts, dts === 0);
  // The restarted encoder (a new track) starts again on the camera's kept keyframe at 300 ms, already sent.
  const restarted: H264Track = { ...track };
  for (let dts = 300; dts <= 1500; dts += 100) frame(restarted, dts, dts === 300);
  const video = hearing.written.filter(([kind]) => kind === 1).map(([, time]) => time);
  const sound = hearing.written.filter(([kind]) => kind === 2).map(([, time]) => time);
  t.ok(video.every((time, index) => index === 0 || time > video[index - 1]!), `picture times rise: ${video.join(' ')}`);
  t.ok(sound.every((time, index) => index === 0 || time > sound[index - 1]!), 'sound times rise');
  // The picture of camera time 1500 ms and the sound just before it must be as close on the stream as at the camera.
  const lastVideo = video.at(-1)!;
  const lastSound = sound.at(-1)!;
  t.ok(lastVideo - lastSound >= 0 && lastVideo - lastSound <= 2 * frameMs, `the last sound (${lastSound.toFixed(1)} ms) is just before the last picture (${lastVideo} ms), as at the camera`);
});
