import { UNLIMITED_SLOTS, type ProcessSlots } from '../../lib/process-slots.ts';
import { startProcess, type RunningProcess } from '../../lib/ffmpeg-runner.ts';
import { performance } from 'node:perf_hooks';
import type { CameraConfig } from '../../conf/types.ts';
import { AdapterError } from '../errors.ts';
import { JpegSplitter } from '../../media/jpeg/splitter.ts';
import { StderrTail } from '../../lib/stderr-tail.ts';
import type { AdapterRegistration } from '../registry.ts';
import type { AdapterSink, CameraAdapter } from '../types.ts';

export interface TestsrcOptions {
  readonly width: number;
  readonly height: number;
  readonly rate: number;
  /** ffmpeg lavfi source filter: testsrc (colour bars and a running clock), testsrc2, smptebars, ... */
  readonly pattern: string;
}

const PATTERNS = new Set(['testsrc', 'testsrc2', 'smptebars', 'smptehdbars', 'rgbtestsrc', 'mandelbrot']);

/** Parses `testsrc://?size=640x480&rate=25&pattern=testsrc`; throws with a message naming the bad parameter. */
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
  return { width, height, rate, pattern };
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
    const child = await startProcess(this.slots, { command: this.ffmpegPath, args: testsrcArgs(this.options), signal: sink.signal, stderr: new StderrTail(5) });
    if (child) await this.read(child, sink);
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
          sink.onFrame({ codec: 'jpeg', data, timestamp: firstAt + (drawn++ * 1000) / this.options.rate, keyframe: true });
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
