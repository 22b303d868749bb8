import { spawn } from 'node:child_process';
import type PQueue from 'p-queue';
import { StderrTail } from '../../adapters/common/stderr-tail.ts';
import type { StreamConfig } from '../../conf/types.ts';
import type { SharedEncoder } from '../encoders/shared-encoder.ts';
import type { Logger } from '../log.ts';
import { flvHeader, flvSequenceHeader, flvVideoTag } from '../media/flv-mux.ts';
import type { EncodedVideoFrame, H264Track } from '../media/types.ts';
import { withProcessSlot, type ProcessSlots } from '../process-slots.ts';
import { Supervisor } from '../supervisor.ts';

const EXIT_GRACE_MS = 2_000;
const MAX_STDIN_QUEUE_BYTES = 8 * 1024 * 1024;

/** ffmpeg's HLS muxer in copy mode: it packages the shared encoder's frames and never encodes. */
export function hlsPackagerArgs(stream: StreamConfig, dir: string, segmentPrefix: string): string[] {
  return [
    '-hide_banner', '-nostats', '-loglevel', 'error', '-fflags', '+nobuffer', '-probesize', '32768', '-analyzeduration', '0',
    '-f', 'flv', '-i', 'pipe:0', '-c:v', 'copy',
    // HLS writes files, so stdout carries progress reports: the relay's sign that the packager is working.
    '-progress', 'pipe:1',
    '-f', 'hls', '-hls_time', String(stream.hlsSegmentSeconds), '-hls_list_size', String(stream.hlsListSize),
    '-hls_delete_threshold', '2',
    // append_list continues sequence numbers after a restart and marks the gap as a discontinuity.
    '-hls_flags', 'delete_segments+append_list+omit_endlist+discont_start+independent_segments+temp_file',
    '-hls_base_url', segmentPrefix, '-hls_segment_filename', `${dir}/seg%06d.ts`, `${dir}/index.m3u8`,
  ];
}

/** A supervised ffmpeg that writes an HLS stream's playlist and segments into a directory from encoded frames. */
export class HlsPackager {
  readonly supervisor: Supervisor;
  readonly stderr = new StderrTail(20);
  pid: number | undefined;

  constructor(
    private readonly options: { stream: StreamConfig; video: SharedEncoder; ffmpegPath: string; dir: string; segmentPrefix: string; startQueue: PQueue; processSlots: ProcessSlots; log: Logger },
  ) {
    this.supervisor = new Supervisor({ name: options.stream.name, startQueue: options.startQueue, log: options.log, task: (signal, live) => this.runOnce(signal, live) });
  }

  private async runOnce(signal: AbortSignal, live: () => void): Promise<void> {
    await withProcessSlot(this.options.processSlots, signal, () => this.runProcess(signal, live));
  }

  private runProcess(signal: AbortSignal, live: () => void): Promise<void> {
    const { stream, video, dir, segmentPrefix } = this.options;
    const child = spawn(this.options.ffmpegPath, hlsPackagerArgs(stream, dir, segmentPrefix), { stdio: ['pipe', 'pipe', 'pipe'] });
    let track: H264Track | undefined;
    let timeBase: number | undefined;
    const write = (frame: EncodedVideoFrame): void => {
      if (!child.stdin.writable || child.stdin.writableLength > MAX_STDIN_QUEUE_BYTES) return;
      if (frame.track !== track) {
        // A new track (encoder restart) cannot continue this FLV stream: the packager restarts with a discontinuity.
        if (track) return void child.kill('SIGKILL');
        if (!frame.keyframe) return;
        track = frame.track;
        timeBase = frame.dts;
        child.stdin.write(Buffer.concat([flvHeader(), flvSequenceHeader(track, 0)]));
      }
      child.stdin.write(flvVideoTag(frame, frame.dts - timeBase!));
    };
    for (const frame of video.groupOfPictures) write(frame);
    const unsubscribe = video.subscribe(write);
    return new Promise<void>((resolve, reject) => {
      let killTimer: NodeJS.Timeout | undefined;
      const onAbort = (): void => {
        child.stdin.end();
        killTimer = setTimeout(() => child.kill('SIGKILL'), EXIT_GRACE_MS);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      child.stdin.on('error', () => {});
      child.stderr.on('data', (chunk: Buffer) => this.stderr.push(chunk));
      child.stdout.on('data', () => live());
      child.on('spawn', () => (this.pid = child.pid));
      child.on('error', (error) => this.stderr.push(`relay: cannot run ${this.options.ffmpegPath}: ${error.message}\n`));
      child.on('close', (code, exitSignal) => {
        clearTimeout(killTimer);
        unsubscribe();
        signal.removeEventListener('abort', onAbort);
        this.pid = undefined;
        if (signal.aborted) return resolve();
        reject(new Error(`ffmpeg exited with ${exitSignal ?? `code ${code}`}: ${this.stderr.lastLine || 'no error output'}`));
      });
    });
  }
}
