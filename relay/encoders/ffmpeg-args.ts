import type { Size, StreamConfig } from '../../conf/types.ts';

export type InputCodec = 'jpeg' | 'h264' | 'vp8';

/** What the ffmpeg in use understands, where builds differ (the npm-packaged fallback is a 2018 build). */
export interface FfmpegFeatures {
  /** `-fps_mode` (ffmpeg 5.1 and later); older builds spell it `-vsync`. */
  readonly fpsMode: boolean;
}

export const MODERN_FFMPEG: FfmpegFeatures = { fpsMode: true };

/**
 * One distinct video setting of a camera. Streams whose settings are equal share one encoder, whatever their
 * container (FLV, HLS, RTSP, recordings) or number of viewers.
 */
export interface EncoderSettings {
  readonly codec: 'libx264' | 'copy';
  readonly size: Size | undefined;
  /** Output frames per second; 0 keeps the camera's rate. */
  readonly frameRate: number;
  readonly bitRateKbps: number;
  readonly qMin: number | undefined;
  readonly qMax: number | undefined;
  /** Frames between keyframes; 0 uses keyframeSeconds. */
  readonly gopSize: number;
  readonly keyframeSeconds: number;
}

/** The encoder settings a Stream block asks for. HLS puts keyframes on segment boundaries; other formats every 2 s. */
export function encoderSettings(stream: StreamConfig): EncoderSettings {
  if (stream.videoCodec === 'copy') {
    return { codec: 'copy', size: undefined, frameRate: 0, bitRateKbps: 0, qMin: undefined, qMax: undefined, gopSize: 0, keyframeSeconds: 0 };
  }
  return {
    codec: 'libx264',
    size: stream.videoSize,
    frameRate: stream.videoFrameRate,
    bitRateKbps: stream.videoBitRate,
    qMin: stream.videoQMin,
    qMax: stream.videoQMax,
    gopSize: stream.videoGopSize,
    keyframeSeconds: stream.videoGopSize > 0 ? 0 : stream.format === 'hls' ? stream.hlsSegmentSeconds : 2,
  };
}

/** A key equal for equal settings, for finding a camera's shared encoder. */
export function settingsKey(settings: EncoderSettings): string {
  const { codec, size, frameRate, bitRateKbps, qMin, qMax, gopSize, keyframeSeconds } = settings;
  return JSON.stringify([codec, size ? `${size.width}x${size.height}` : null, frameRate, bitRateKbps, qMin ?? null, qMax ?? null, gopSize, keyframeSeconds]);
}

/**
 * Reads the camera's frames from stdin as live Matroska, with the source's timestamps in each block. `-copyts` keeps
 * those times on the output, so they map back onto the camera's timeline exactly; and no `+nobuffer`, which threw
 * away the frames read while probing (the first keyframe group), after which ffmpeg's own shift to zero put every
 * picture 280 ms early against the camera's sound.
 */
export function inputArgs(): string[] {
  return [
    '-hide_banner', '-nostats', '-loglevel', 'error',
    '-probesize', '32768', '-analyzeduration', '0', '-copyts',
    '-f', 'matroska', '-i', 'pipe:0',
  ];
}

/** H.264 encoding as the settings ask. */
export function videoArgs(settings: EncoderSettings, features: FfmpegFeatures = MODERN_FFMPEG): string[] {
  const args = ['-an'];
  if (settings.size) args.push('-vf', `scale=${settings.size.width}:${settings.size.height}`);
  // vfr with -r drops frames above the rate but never duplicates, so a camera outage is not filled with copies.
  if (settings.frameRate > 0) args.push('-r', String(settings.frameRate), features.fpsMode ? '-fps_mode' : '-vsync', 'vfr');
  // Otherwise the encoder keeps the input's millisecond timestamps; its default, one tick per frame at the track's
  // nominal rate, would round them and drop frames that come faster than that rate.
  else args.push('-enc_time_base', '1:1000');
  const rate = `${settings.bitRateKbps}k`;
  args.push(
    '-c:v', 'libx264', '-preset', 'veryfast', '-tune', 'zerolatency', '-pix_fmt', 'yuv420p',
    // Rate control by each frame's real duration, not by the nominal rate: a camera's rate varies and changes.
    '-x264-params', 'force-cfr=0',
    '-b:v', rate, '-maxrate', rate, '-bufsize', `${settings.bitRateKbps * 2}k`,
  );
  if (settings.qMin !== undefined) args.push('-qmin', String(settings.qMin));
  if (settings.qMax !== undefined) args.push('-qmax', String(settings.qMax));
  if (settings.gopSize > 0) args.push('-g', String(settings.gopSize), '-keyint_min', String(settings.gopSize), '-sc_threshold', '0');
  else args.push('-force_key_frames', `expr:gte(t,n_forced*${settings.keyframeSeconds})`);
  return args;
}

/** The encoded stream goes to stdout as FLV: its tags carry each access unit's decode and composition time. */
export function encoderOutputArgs(): string[] {
  return ['-f', 'flv', '-flvflags', 'no_duration_filesize', '-flush_packets', '1', 'pipe:1'];
}

/** The whole ffmpeg argument list of one encoder. */
export function encoderArgs(settings: EncoderSettings, features: FfmpegFeatures = MODERN_FFMPEG): string[] {
  return [...inputArgs(), ...videoArgs(settings, features), ...encoderOutputArgs()];
}
