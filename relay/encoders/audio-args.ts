import type { AudioTrack } from '../../media/types.ts';

/**
 * The converters' AAC rate: every browser's decoder plays it, and its 21 ms frames let a segment or a joining viewer
 * start within one frame of the picture (8 kHz AAC frames last 128 ms).
 */
export const AAC_OUTPUT_RATE = 48_000;

/**
 * True where the AAC converter reads the camera's audio: G.711 as raw samples (one byte each, no framing), Opus in
 * Matroska (its packets need a container that frames them).
 */
export function convertible(input: AudioTrack): boolean {
  return input.codec === 'pcma' || input.codec === 'pcmu' || input.codec === 'opus';
}

/** ffmpeg's input arguments for the camera's audio on stdin. */
function converterInput(input: AudioTrack): string[] {
  if (input.codec === 'opus') return ['-fflags', 'nobuffer', '-probesize', '2048', '-analyzeduration', '0', '-f', 'matroska', '-i', 'pipe:0'];
  return ['-f', input.codec === 'pcma' ? 'alaw' : 'mulaw', '-ar', String(input.sampleRate), '-ac', String(input.channels), '-i', 'pipe:0'];
}

/**
 * One audio converter's ffmpeg: the camera's G.711 as raw samples or its Opus in Matroska on stdin, AAC-LC out as ADTS
 * on stdout. Output frames get their times from the converter, by sample count (audio-converter.ts).
 */
export function audioConverterArgs(input: AudioTrack): string[] {
  return [
    '-hide_banner', '-nostats', '-loglevel', 'error',
    ...converterInput(input),
    '-c:a', 'aac', '-b:a', '64k', '-ar', String(AAC_OUTPUT_RATE),
    '-f', 'adts', '-flush_packets', '1', 'pipe:1',
  ];
}

/**
 * The Opus converter's ffmpeg (for WebRTC, where browsers take Opus and not AAC): the camera's AAC as ADTS on stdin,
 * Opus at 48 kHz stereo in 20 ms packets out as Ogg on stdout, a page per packet so each leaves at once. The
 * low-delay mode keeps the encoder's own delay (its pre-skip) at 2.5 ms.
 */
export function opusConverterArgs(): string[] {
  return [
    '-hide_banner', '-nostats', '-loglevel', 'error',
    '-fflags', 'nobuffer', '-probesize', '2048', '-analyzeduration', '100000', '-f', 'aac', '-i', 'pipe:0',
    '-c:a', 'libopus', '-b:a', '32k', '-ar', String(OPUS_OUTPUT_RATE), '-ac', '2', '-frame_duration', '20', '-application', 'lowdelay',
    '-f', 'ogg', '-page_duration', '20000', '-flush_packets', '1', 'pipe:1',
  ];
}

/** Opus always runs at 48 kHz (RFC 7587 clocks it so whatever the input's rate). */
export const OPUS_OUTPUT_RATE = 48_000;
