import type { AudioTrack } from '../../media/types.ts';

/**
 * The converters' AAC rate: every browser's decoder plays it, and its 21 ms frames let a segment or a joining viewer
 * start within one frame of the picture (8 kHz AAC frames last 128 ms).
 */
export const AAC_OUTPUT_RATE = 48_000;

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
    '-c:a', 'aac', '-b:a', '64k', '-ar', String(AAC_OUTPUT_RATE),
    '-f', 'adts', '-flush_packets', '1', 'pipe:1',
  ];
}
