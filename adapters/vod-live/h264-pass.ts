import { FlvTagReader } from '../../media/flv/tags.ts';
import { FlvFrameReader } from '../../media/flv/frames.ts';
import { LenientFlvAudioReader } from '../../media/flv/audio.ts';
import { StderrTail } from '../../lib/stderr-tail.ts';
import { spawnProcess } from '../../lib/ffmpeg-runner.ts';
import { AdapterError } from '../errors.ts';
import type { PassContext } from './pass.ts';

/** Frame interval assumed when a file has a single frame. */
const DEFAULT_INTERVAL_MS = 40;
/** Samples in one AAC frame: how long the last audio frame of a pass lasts. */
const AAC_FRAME_SAMPLES = 1024;

/** The file's first audio track in a pass: left out (no sound, or a JPEG file), copied (AAC), or encoded once to AAC. */
export type PassAudio = 'none' | 'copy' | 'aac';

/**
 * ffmpeg reads the file once at its own pace (-re: real time from the file's timestamps) and remuxes its first video
 * track into FLV on stdout. FLV rather than raw H.264 because its tags keep each frame's decode and presentation time,
 * which the relay's FLV tag reader already parses. H.264 is copied; other codecs are encoded once to H.264. The first
 * audio track (if any: `0:a:0?`) goes along as AAC, copied or encoded once.
 */
export function h264PassArgs(path: string, copy: boolean, fromStdin = false, audio: PassAudio = 'none'): string[] {
  const video = copy ? ['-c:v', 'copy'] : ['-c:v', 'libx264', '-preset', 'veryfast', '-tune', 'zerolatency', '-bf', '0', '-g', '50'];
  const sound = audio === 'none' ? ['-an'] : ['-map', '0:a:0?', ...(audio === 'copy' ? ['-c:a', 'copy'] : ['-c:a', 'aac', '-b:a', '128k'])];
  return [
    '-hide_banner', '-nostdin', '-loglevel', 'error',
    '-re', '-i', fromStdin ? 'pipe:0' : `file:${path}`,
    '-map', '0:v:0', ...sound, ...video,
    '-f', 'flv', '-flush_packets', '1', 'pipe:1',
  ];
}

/** Bytes of a bucket object queued on ffmpeg's stdin at most; the object is read no faster than ffmpeg takes it. */
const STDIN_BUDGET_BYTES = 1024 * 1024;

/**
 * Plays the file once through ffmpeg; resolves with the timestamp the next pass starts at: after the longer of the
 * picture and the sound, since -re plays both to their ends in real time (a file whose sound outlasts its picture
 * holds the last frame meanwhile), and the next pass's sound must neither go back in time nor drift from its picture.
 */
export function playH264Pass(context: PassContext, copy: boolean, audio: PassAudio = 'none'): Promise<number> {
  const { path, offsetMs, signal, emit } = context;
  return new Promise((resolve, reject) => {
    if (signal.aborted) return resolve(offsetMs);
    const stderr = new StderrTail(5);
    const input = context.openInput?.();
    const child = spawnProcess({
      command: context.ffmpegPath, args: h264PassArgs(path, copy, input !== undefined, audio), signal, stderr,
      ...(input ? { stdinBudget: STDIN_BUDGET_BYTES, graceMs: 2000, stopSignal: null } : {}),
    });
    const tags = new FlvTagReader();
    const frames = new FlvFrameReader();
    // Sound that cannot be read is left out for the pass, said once; the picture plays on.
    const sound = new LenientFlvAudioReader('the file\'s sound', (reason) => context.audioLeftOut?.(reason));
    // One origin for picture and sound: the first tag of either, so both keep the file's own offset between them.
    let firstDts: number | undefined;
    let sawVideo = false;
    let lastDts = 0;
    let audioEnd: number | undefined;
    let interval = DEFAULT_INTERVAL_MS;
    let failure: AdapterError | undefined;
    if (input) {
      // One chunk in flight: the next is read only once ffmpeg has taken this one, so -re paces the download.
      input.on('data', (chunk: Buffer) => {
        input.pause();
        if (!child.write(chunk, () => input.resume())) input.destroy();
      });
      input.on('end', () => child.endInput());
      input.on('error', (error) => {
        if (signal.aborted) return;
        failure ??= context.inputFailure?.(error) ?? new AdapterError('CLOSED', error.message);
        child.kill();
      });
      void child.exit.then(() => input.destroy());
    }
    child.stdout.on('data', (chunk: Buffer) => {
      if (failure) return;
      try {
        for (const tag of tags.push(chunk)) {
          const unit = sound.read(tag);
          if (unit) {
            firstDts ??= unit.dts;
            audioEnd = unit.dts + (AAC_FRAME_SAMPLES * 1000) / unit.track.sampleRate;
            context.emitAudio?.({ ...unit, pts: offsetMs + unit.pts - firstDts, dts: offsetMs + unit.dts - firstDts });
            continue;
          }
          const frame = frames.read(tag);
          if (!frame) continue;
          firstDts ??= frame.dts;
          sawVideo = true;
          if (frame.dts > lastDts) interval = Math.min(1000, frame.dts - lastDts);
          lastDts = frame.dts;
          // Frames come in decode order: the feed's timeline follows their decode times, which only increase.
          emit({ ...frame, pts: offsetMs + frame.pts - firstDts, dts: offsetMs + frame.dts - firstDts });
        }
      } catch (error) {
        failure = new AdapterError('PROTOCOL', `cannot read the file's video: ${(error as Error).message}`);
        child.kill();
      }
    });
    void child.exit.then(({ aborted, startError, code, signal: killSignal }) => {
      if (aborted) return resolve(offsetMs);
      if (failure) return reject(failure);
      if (startError) return reject(new AdapterError('PROCESS', `cannot run ffmpeg: ${startError.message}`));
      if (code !== 0) {
        // ffmpeg names the input in its errors: show the file's name, never its path on this machine.
        const why = (stderr.lastLine || `exit ${code ?? killSignal}`).split(`file:${path}`).join(context.name).split(path).join(context.name);
        return reject(new AdapterError('PROTOCOL', `cannot play the file: ${why}`));
      }
      if (firstDts === undefined || !sawVideo) return reject(new AdapterError('PROTOCOL', 'the file has no video frames'));
      resolve(offsetMs + Math.max(lastDts + interval, audioEnd ?? 0) - firstDts);
    });
  });
}
