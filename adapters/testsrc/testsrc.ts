import { UNLIMITED_SLOTS, type ProcessSlots } from '../../lib/process-slots.ts';
import { startProcess, type RunningProcess } from '../../lib/ffmpeg-runner.ts';
import { performance } from 'node:perf_hooks';
import type { CameraConfig } from '../../conf/types.ts';
import { AdapterError } from '../errors.ts';
import { JpegSplitter } from '../../media/jpeg/splitter.ts';
import { StderrTail } from '../../lib/stderr-tail.ts';
import type { AdapterRegistration } from '../registry.ts';
import type { AdapterSink, CameraAdapter } from '../types.ts';
import { AdtsReader } from '../../media/aac/adts.ts';
import { aacTrack } from '../../media/aac/config.ts';
import { jpegUnit, type AudioTrack } from '../../media/types.ts';

/** Samples in one AAC-LC frame. */
const AAC_FRAME_SAMPLES = 1024;

export interface TestsrcOptions {
  readonly width: number;
  readonly height: number;
  readonly rate: number;
  /** ffmpeg lavfi source filter: testsrc (colour bars and a running clock), testsrc2, smptebars, ... */
  readonly pattern: string;
  /** `aac`: a 1 kHz tone that beeps higher once a second, as the clock in the picture turns; `none`: silent. */
  readonly audio?: 'aac' | 'none';
}

const PATTERNS = new Set(['testsrc', 'testsrc2', 'smptebars', 'smptehdbars', 'rgbtestsrc', 'mandelbrot']);

/** Parses `testsrc://?size=640x480&rate=25&pattern=testsrc&audio=aac`; throws with a message naming the bad parameter. */
export function parseTestsrcUrl(source: string): TestsrcOptions {
  const url = new URL(source);
  const size = url.searchParams.get('size') ?? '640x480';
  const match = /^(\d{1,4})x(\d{1,4})$/.exec(size);
  if (!match) throw new Error(`testsrc size must be WxH, got "${size}"`);
  const width = Number(match[1]);
  const height = Number(match[2]);
  if (width < 16 || height < 16 || width % 2 || height % 2) throw new Error(`testsrc size ${size}: even numbers of at least 16`);
  const rateText = url.searchParams.get('rate') ?? '25';
  const rate = Number(rateText);
  if (!Number.isFinite(rate) || rate <= 0 || rate > 120) throw new Error(`testsrc rate must be 0 < rate <= 120, got "${rateText}"`);
  const pattern = url.searchParams.get('pattern') ?? 'testsrc';
  if (!PATTERNS.has(pattern)) throw new Error(`testsrc pattern must be one of ${[...PATTERNS].join(', ')}`);
  const audio = url.searchParams.get('audio') ?? 'none';
  if (audio !== 'aac' && audio !== 'none') throw new Error(`testsrc audio must be aac or none, got "${audio.slice(0, 20)}"`);
  return { width, height, rate, pattern, audio };
}

/** The ffmpeg arguments that make the synthetic camera: a real-time lavfi pattern encoded as a stream of JPEGs. */
export function testsrcArgs(options: TestsrcOptions): string[] {
  const { width, height, rate, pattern } = options;
  return [
    '-hide_banner', '-nostdin', '-loglevel', 'error',
    '-re', '-f', 'lavfi', '-i', `${pattern}=size=${width}x${height}:rate=${rate}`,
    // The standard Huffman tables, as cameras use them: RTP/JPEG (RFC 2435) can carry no others, and ffmpeg's default
    // (optimal tables per image) would make the synthetic camera's JPEGs unservable over RTSP.
    '-c:v', 'mjpeg', '-huffman', 'default', '-q:v', '5', '-pix_fmt', 'yuvj420p', '-f', 'mjpeg', 'pipe:1',
  ];
}

/** The synthetic camera's sound: a real-time 1 kHz sine (beeping at 2 kHz each second) as ADTS AAC, 48 kHz mono. */
export function testsrcAudioArgs(): string[] {
  return [
    '-hide_banner', '-nostdin', '-loglevel', 'error',
    '-re', '-f', 'lavfi', '-i', 'sine=frequency=1000:beep_factor=2:sample_rate=48000',
    '-c:a', 'aac', '-b:a', '64k', '-ac', '1', '-f', 'adts', 'pipe:1',
  ];
}

/** The built-in synthetic camera: an ffmpeg child drawing a moving test pattern, read as JPEG frames. */
export class TestsrcAdapter implements CameraAdapter {
  readonly kind = 'testsrc';
  private readonly options: TestsrcOptions;

  constructor(
    private readonly camera: CameraConfig,
    private readonly ffmpegPath: string,
    private readonly slots: ProcessSlots = UNLIMITED_SLOTS,
  ) {
    this.options = parseTestsrcUrl(camera.source);
  }

  async run(sink: AdapterSink): Promise<void> {
    // One signal for both processes, so whichever ends the run takes the other with it.
    const run = new AbortController();
    const stop = (): void => run.abort();
    sink.signal.addEventListener('abort', stop, { once: true });
    try {
      // Both start at once, so the picture and the sound begin together on the one clock.
      const [child, sound] = await Promise.all([
        startProcess(this.slots, { command: this.ffmpegPath, args: testsrcArgs(this.options), signal: run.signal, stderr: new StderrTail(5) }),
        this.options.audio === 'aac'
          ? startProcess(this.slots, { command: this.ffmpegPath, args: testsrcAudioArgs(), signal: run.signal, stderr: new StderrTail(5) })
          : undefined,
      ]);
      if (!child) return;
      // A sound process that fails ends the run too, so the supervisor restarts both and the failure shows.
      await (sound ? Promise.race([this.read(child, sink), this.readAudio(sound, sink)]) : this.read(child, sink));
    } finally {
      sink.signal.removeEventListener('abort', stop);
      run.abort();
    }
  }

  private readAudio(child: RunningProcess, sink: AdapterSink): Promise<void> {
    return new Promise((resolve, reject) => {
      const reader = new AdtsReader();
      let firstAt: number | undefined;
      let samples = 0;
      let track: AudioTrack | undefined;
      child.stdout.on('data', (chunk: Buffer) => {
        for (const frame of reader.push(chunk)) {
          if (!track || !track.config?.equals(frame.config)) track = aacTrack(frame.config);
          // Times from the sample count, on the same clock (performance.now) as the picture's.
          firstAt ??= performance.now();
          const time = firstAt + (samples * 1000) / frame.sampleRate;
          samples += AAC_FRAME_SAMPLES;
          sink.onAudio?.({ track, data: frame.data, pts: time, dts: time, keyframe: true });
        }
      });
      void child.exit.then((exit) => {
        if (exit.aborted) return resolve();
        const why = exit.startError?.message ?? (child.stderr.lastLine || `exit ${exit.code ?? exit.signal}`);
        reject(new AdapterError('PROCESS', `synthetic camera sound: ffmpeg ended: ${why}`));
      });
    });
  }

  private read(child: RunningProcess, sink: AdapterSink): Promise<void> {
    return new Promise((resolve, reject) => {
      const splitter = new JpegSplitter(this.camera.maxFrameBytes);
      let connected = false;
      let firstAt: number | undefined;
      let drawn = 0;
      child.stdout.on('data', (chunk: Buffer) => {
        let frames: Buffer[];
        try {
          frames = splitter.push(chunk);
        } catch (error) {
          child.kill();
          reject(new AdapterError('PROTOCOL', (error as Error).message));
          return;
        }
        for (const data of frames) {
          if (!connected) {
            connected = true;
            sink.onConnected();
          }
          // The pattern's own clock (frame number over rate), not the arrival time: a starved ffmpeg that falls
          // behind and catches up in a burst still draws its frames 1/rate apart.
          firstAt ??= performance.now();
          sink.onFrame(jpegUnit(data, firstAt + (drawn++ * 1000) / this.options.rate));
        }
      });
      void child.exit.then((exit) => {
        if (exit.aborted) return resolve();
        if (exit.startError) return reject(new AdapterError('PROCESS', `synthetic camera: cannot run ffmpeg: ${exit.startError.message}`));
        const why = child.stderr.lastLine || `exit ${exit.code ?? exit.signal}`;
        reject(new AdapterError('PROCESS', `synthetic camera: ffmpeg ended: ${why}`));
      });
    });
  }
}

export const testsrcAdapter: AdapterRegistration = {
  schemes: ['testsrc'],
  create: (camera, env) => new TestsrcAdapter(camera, env.ffmpegPath, env.processSlots),
};
