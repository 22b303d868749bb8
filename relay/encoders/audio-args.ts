import type { AudioTrack } from '../../media/types.ts';

/** AAC below this rate is not played by every browser's decoder: narrowband G.711 is resampled up to it. */
const MIN_AAC_RATE = 16_000;

/** The sample rate an audio converter writes for a camera's track. */
export function aacOutputRate(input: AudioTrack): number {
  return Math.max(MIN_AAC_RATE, input.sampleRate);
}

/** True where ffmpeg can read the camera's audio as raw samples on stdin (G.711 is one byte per sample, no framing). */
export function convertible(input: AudioTrack): boolean {
  return input.codec === 'pcma' || input.codec === 'pcmu';
}

/**
 * One audio converter's ffmpeg: the camera's G.711 as raw samples on stdin, AAC-LC out as ADTS on stdout. Raw input
 * has no times: the converter keeps them itself, by sample count (audio-converter.ts).
 */
export function audioConverterArgs(input: AudioTrack): string[] {
  return [
    '-hide_banner', '-nostats', '-loglevel', 'error',
    '-f', input.codec === 'pcma' ? 'alaw' : 'mulaw', '-ar', String(input.sampleRate), '-ac', String(input.channels), '-i', 'pipe:0',
    '-c:a', 'aac', '-b:a', '64k', '-ar', String(aacOutputRate(input)),
    '-f', 'adts', '-flush_packets', '1', 'pipe:1',
  ];
}
