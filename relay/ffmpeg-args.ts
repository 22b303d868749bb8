import type { StreamConfig } from '../conf/types.ts';

/** Where a transcode writes: FLV to stdout, or an HLS playlist and segments into a directory. */
export type TranscodeOutput =
  | { readonly kind: 'flv' }
  | { readonly kind: 'hls'; readonly dir: string; readonly segmentPrefix: string };

export type InputCodec = 'jpeg' | 'h264' | 'vp8';

/** What the ffmpeg in use understands, where builds differ (the npm-packaged fallback is a 2018 build). */
export interface FfmpegFeatures {
  /** `-fps_mode` (ffmpeg 5.1 and later); older builds spell it `-vsync`. */
  readonly fpsMode: boolean;
}

export const MODERN_FFMPEG: FfmpegFeatures = { fpsMode: true };

/** Reads camera frames from stdin, stamped with the wall clock as they arrive (frames are written in real time). */
export function inputArgs(codec: InputCodec): string[] {
  return [
    '-hide_banner', '-nostats', '-loglevel', 'error',
    '-fflags', '+genpts+nobuffer', '-use_wallclock_as_timestamps', '1',
    '-probesize', '32768', '-analyzeduration', '0',
    '-f', codec === 'jpeg' ? 'mjpeg' : 'h264', '-i', 'pipe:0',
  ];
}

/** Video encoding as the Stream block configures it; `copy` passes the camera's H.264 through. */
export function videoArgs(stream: StreamConfig, keyframeSeconds: number, features: FfmpegFeatures = MODERN_FFMPEG): string[] {
  if (stream.videoCodec === 'copy') return ['-an', '-c:v', 'copy'];
  const args = ['-an'];
  if (stream.videoSize) args.push('-vf', `scale=${stream.videoSize.width}:${stream.videoSize.height}`);
  // vfr with -r drops frames above the rate but never duplicates, so a camera outage is not filled with copies.
  if (stream.videoFrameRate > 0) args.push('-r', String(stream.videoFrameRate), features.fpsMode ? '-fps_mode' : '-vsync', 'vfr');
  const rate = `${stream.videoBitRate}k`;
  args.push(
    '-c:v', 'libx264', '-preset', 'veryfast', '-tune', 'zerolatency', '-pix_fmt', 'yuv420p',
    '-b:v', rate, '-maxrate', rate, '-bufsize', `${stream.videoBitRate * 2}k`,
  );
  if (stream.videoQMin !== undefined) args.push('-qmin', String(stream.videoQMin));
  if (stream.videoQMax !== undefined) args.push('-qmax', String(stream.videoQMax));
  if (stream.videoGopSize > 0) args.push('-g', String(stream.videoGopSize), '-keyint_min', String(stream.videoGopSize), '-sc_threshold', '0');
  else args.push('-force_key_frames', `expr:gte(t,n_forced*${keyframeSeconds})`);
  return args;
}

export function outputArgs(stream: StreamConfig, output: TranscodeOutput): string[] {
  if (output.kind === 'flv') return ['-f', 'flv', '-flvflags', 'no_duration_filesize', '-flush_packets', '1', 'pipe:1'];
  return [
    // HLS writes files, so stdout carries progress reports: the relay's sign that the encoder is working.
    '-progress', 'pipe:1',
    '-f', 'hls',
    '-hls_time', String(stream.hlsSegmentSeconds),
    '-hls_list_size', String(stream.hlsListSize),
    '-hls_delete_threshold', '2',
    // append_list continues sequence numbers after an ffmpeg restart and marks the gap as a discontinuity.
    '-hls_flags', 'delete_segments+append_list+omit_endlist+discont_start+independent_segments+temp_file',
    '-hls_base_url', output.segmentPrefix,
    '-hls_segment_filename', `${output.dir}/seg%06d.ts`,
    `${output.dir}/index.m3u8`,
  ];
}

/** The whole ffmpeg argument list for one transcoded Stream. */
export function transcodeArgs(
  stream: StreamConfig,
  codec: InputCodec,
  output: TranscodeOutput,
  features: FfmpegFeatures = MODERN_FFMPEG,
): string[] {
  const keyframeSeconds = output.kind === 'hls' ? stream.hlsSegmentSeconds : 2;
  return [...inputArgs(codec), ...videoArgs(stream, keyframeSeconds, features), ...outputArgs(stream, output)];
}
