import type { IncomingMessage } from 'node:http';
import type { CameraConfig } from '../../conf/types.ts';
import { AdapterError } from '../errors.ts';
import { readBody } from '../http/body.ts';
import type { AdapterSink, AudioUnit } from '../types.ts';
import type { H264Unit } from '../../media/types.ts';
import { FlvH264Reader } from './flv-h264.ts';

/** True when a Source names an FLV stream by its path, e.g. another relay's `http://origin:8090/cam.flv`. */
export function isFlvPath(url: URL): boolean {
  return url.pathname.toLowerCase().endsWith('.flv');
}

/** True for the media types an HTTP-FLV server answers with. */
export function isFlvMediaType(mediaType: string): boolean {
  return mediaType === 'video/x-flv' || mediaType === 'video/flv';
}

/**
 * Reads an HTTP-FLV response (an origin relay's live FLV) until it fails, handing each H.264 access unit to the sink
 * with the FLV timestamps, through `emit`, and each AAC or G.711 frame to `emitAudio` on the same timestamps. Resolves
 * only when the signal aborts.
 */
export async function readFlvStream(
  response: IncomingMessage,
  camera: CameraConfig,
  sink: AdapterSink,
  emit: (unit: H264Unit) => void,
  emitAudio?: (unit: AudioUnit) => void,
): Promise<void> {
  const reader = new FlvH264Reader(camera.maxFrameBytes, emitAudio, (reason) => {
    sink.log(reason);
    sink.onAudioLeftOut?.(reason);
  });
  const outcome = await readBody(response, {
    signal: sink.signal,
    idleTimeoutMs: camera.readTimeoutMs,
    onChunk: (chunk) => {
      for (const frame of reader.push(chunk)) emit(frame);
    },
  }).catch((error: unknown) => {
    throw error instanceof AdapterError && error.code === 'CLOSED' ? flvEnded(reader, error) : error;
  });
  if (outcome === 'aborted') return;
  throw flvEnded(reader, undefined);
}

/** The CLOSED error for an FLV stream that ended, saying whether it broke off inside a tag. */
function flvEnded(reader: FlvH264Reader, cause: unknown): AdapterError {
  const why = reader.midTag ? 'the origin closed the FLV stream in the middle of a tag'
    : reader.hasTrack ? 'the origin closed the FLV stream' : 'the origin closed the FLV stream before any H.264 sequence header';
  return new AdapterError('CLOSED', why, { cause });
}
