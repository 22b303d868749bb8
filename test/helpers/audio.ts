import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Encodings of the test tone: ffmpeg's output arguments for each. */
const TONE_OUTPUT: Record<string, string[]> = {
  adts: ['-c:a', 'aac', '-b:a', '64k', '-f', 'adts'],
  alaw: ['-c:a', 'pcm_alaw', '-f', 'alaw'],
  mulaw: ['-c:a', 'pcm_mulaw', '-f', 'mulaw'],
  opus: ['-c:a', 'libopus', '-b:a', '48k', '-f', 'ogg'],
};

/** A 1 kHz sine (ffmpeg's lavfi `sine`) of `seconds`, encoded as `format`, returned as bytes. */
export async function makeTone(format: keyof typeof TONE_OUTPUT, options: { seconds?: number; sampleRate?: number; channels?: number } = {}): Promise<Buffer> {
  const { seconds = 1, sampleRate = 48000, channels = 1 } = options;
  const { stdout } = await run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', `sine=frequency=1000:sample_rate=${sampleRate}:duration=${seconds}`,
    '-ac', String(channels), ...TONE_OUTPUT[format]!, '-'], { encoding: 'buffer', maxBuffer: 64 * 1024 * 1024, timeout: 30_000 });
  return stdout;
}

/** What ffmpeg/ffprobe make of a file's audio: its stream parameters, decoded duration and the tone's RMS level. */
export interface DecodedAudio {
  readonly codec: string;
  readonly sampleRate: number;
  readonly channels: number;
  /** Seconds of audio decoded. */
  readonly duration: number;
  /** RMS level of the 1 kHz band in dBFS (silence is -inf or below -90). */
  readonly toneDb: number;
  /** The audio stream's start time, seconds. */
  readonly startTime: number;
  /** The video stream's start time, when the file has one. */
  readonly videoStartTime: number | undefined;
}

/** Writes `bytes` to a temp file named `name` (its extension tells ffmpeg the format) and decodes its audio. */
export async function decodeAudio(bytes: Buffer, name: string, inputOptions: readonly string[] = []): Promise<DecodedAudio> {
  const dir = await mkdtemp(join(tmpdir(), 'relay-audio-'));
  try {
    const path = join(dir, name);
    await writeFile(path, bytes);
    const { stdout } = await run('ffprobe', ['-v', 'error', ...inputOptions, '-show_entries', 'stream=codec_type,codec_name,sample_rate,channels,start_time',
      '-of', 'json', path], { timeout: 30_000 });
    const streams = (JSON.parse(stdout) as { streams: Array<Record<string, string | number>> }).streams;
    const audio = streams.find((stream) => stream.codec_type === 'audio');
    if (!audio) throw new Error(`ffprobe found no audio stream in ${name}`);
    const video = streams.find((stream) => stream.codec_type === 'video');
    const { stderr } = await run('ffmpeg', ['-hide_banner', '-nostats', ...inputOptions, '-i', path, '-map', '0:a:0',
      '-af', 'bandpass=f=1000,astats=measure_perchannel=none:measure_overall=RMS_level', '-f', 'null', '-'], { timeout: 30_000 });
    const rms = /RMS level dB: (\S+)/.exec(stderr);
    const times = [...stderr.matchAll(/time=(\d+):(\d+):([\d.]+)/g)].at(-1);
    if (!rms || !times) throw new Error(`ffmpeg did not report the audio's level and duration: ${stderr.slice(-500)}`);
    return {
      codec: String(audio.codec_name),
      sampleRate: Number(audio.sample_rate),
      channels: Number(audio.channels),
      duration: Number(times[1]) * 3600 + Number(times[2]) * 60 + Number(times[3]),
      toneDb: rms[1] === '-inf' ? -Infinity : Number(rms[1]),
      startTime: Number(audio.start_time),
      videoStartTime: video ? Number(video.start_time) : undefined,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
