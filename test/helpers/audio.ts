import { execFile } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { FlvAudioReader } from '../../media/flv/audio.ts';
import { FlvFrameReader } from '../../media/flv/frames.ts';
import { FlvTagReader } from '../../media/flv/tags.ts';
import type { RtpAudioUnit } from '../../media/rtp/audio-depacketizer.ts';
import { opusDepacketizer, opusTrack } from '../../media/rtp/opus.ts';
import { parseRtpPacket } from '../../media/rtp/rtp.ts';
import type { FrameUnit, H264Unit } from '../../media/types.ts';

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

/** Video and audio units of a short H.264 + AAC clip that ffmpeg made as FLV, read with the relay's FLV readers. */
export interface AvUnits {
  readonly video: H264Unit[];
  readonly audio: FrameUnit[];
}

/** A `seconds` long 320x240 10 fps H.264 clip with a 1 kHz AAC tone (48 kHz mono), as units. */
export async function makeAvUnits(seconds = 2): Promise<AvUnits> {
  const { stdout } = await run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', `testsrc=size=320x240:rate=10:duration=${seconds}`,
    '-f', 'lavfi', '-i', `sine=frequency=1000:sample_rate=48000:duration=${seconds}`, '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '10', '-bf', '0',
    '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-f', 'flv', '-'], { encoding: 'buffer', maxBuffer: 64 * 1024 * 1024, timeout: 30_000 });
  const videoReader = new FlvFrameReader();
  const audioReader = new FlvAudioReader();
  const video: H264Unit[] = [];
  const audio: FrameUnit[] = [];
  for (const tag of new FlvTagReader().push(stdout)) {
    const frame = videoReader.read(tag);
    if (frame) video.push(frame);
    const unit = audioReader.read(tag);
    if (unit) audio.push(unit);
  }
  return { video, audio };
}

/**
 * Has ffmpeg send `seconds` of the 1 kHz tone as RTP (`codecArgs` pick the encoder and RTP flags) to a UDP socket on
 * 127.0.0.1, and returns the SDP ffmpeg wrote and the packets received, in arrival order.
 */
export async function ffmpegRtpTone(codecArgs: readonly string[], seconds = 1, sampleRate = 48000): Promise<{ sdp: string; packets: Buffer[] }> {
  const socket = createSocket('udp4');
  const packets: Buffer[] = [];
  socket.on('message', (message) => packets.push(message));
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const dir = await mkdtemp(join(tmpdir(), 'relay-rtp-'));
  try {
    const sdpPath = join(dir, 'out.sdp');
    await run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', `sine=frequency=1000:sample_rate=${sampleRate}:duration=${seconds}`,
      ...codecArgs, '-sdp_file', sdpPath, '-f', 'rtp', `rtp://127.0.0.1:${socket.address().port}?pkt_size=1200`], { timeout: 30_000 });
    await new Promise((resolve) => setTimeout(resolve, 100)); // the last datagrams
    return { sdp: await readFile(sdpPath, 'utf8'), packets };
  } finally {
    socket.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/** Opus units of `seconds` of the tone, as ffmpeg's libopus sends them over RTP (20 ms each, mono), depacketized. */
export async function makeOpusUnits(seconds = 1): Promise<RtpAudioUnit[]> {
  const { packets } = await ffmpegRtpTone(['-c:a', 'libopus', '-ac', '1'], seconds);
  const depacketizer = opusDepacketizer(opusTrack(1));
  return packets.flatMap((packet) => depacketizer.push(parseRtpPacket(packet)));
}
