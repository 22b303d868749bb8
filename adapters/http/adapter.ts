import type { IncomingMessage } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { CameraConfig } from '../../conf/types.ts';
import { isCompleteJpeg } from '../../media/jpeg/splitter.ts';
import { AdapterError } from '../errors.ts';
import type { AdapterRegistration } from '../registry.ts';
import type { AdapterSink, CameraAdapter } from '../types.ts';
import { jpegUnit, type VideoUnit } from '../../media/types.ts';
import { isFlvMediaType, isFlvPath, readFlvStream } from '../http-flv/read-stream.ts';
import { readBody } from './body.ts';
import { CameraHttpClient } from './client.ts';
import { isJpegMediaType, isMultipartMediaType, isTextMediaType, parseContentType } from './content-type.ts';
import { DEFAULT_MULTIPART_LIMITS, MultipartParser, trimLineEnds } from './multipart.ts';

/** Poll period for a source that answers single JPEGs when neither SnapshotInterval nor InputFrameRate sets one. */
export const DEFAULT_POLL_INTERVAL_MS = 100;
/** Snapshots in a row that are not a JPEG before the camera is declared broken. */
const MAX_BAD_SNAPSHOTS = 3;

/**
 * MJPEG over HTTP(S): a multipart/x-mixed-replace stream (Canon WebView `GetOneShot?frame_count=no_limit` included),
 * or single JPEGs polled over one keep-alive connection; or H.264 in HTTP-FLV (another relay's `.flv` stream, for
 * edge relays). Which one is decided by the URL's `.flv` ending and by what the camera answers.
 */
export class HttpAdapter implements CameraAdapter {
  readonly kind: string;
  private readonly url: URL;
  private connected = false;
  private badSnapshots = 0;
  private polling = false;
  /** Parts and snapshots that were not a JPEG, dropped. */
  droppedParts = 0;

  constructor(private readonly camera: CameraConfig) {
    this.url = new URL(camera.source);
    this.kind = isFlvPath(this.url) ? 'http-flv' : 'http';
  }

  async run(sink: AdapterSink): Promise<void> {
    const client = new CameraHttpClient(this.camera, sink.signal);
    try {
      for (;;) {
        const started = performance.now();
        const response = await client.get(this.url);
        const { mediaType, boundary } = parseContentType(response.headers['content-type']);
        if (isFlvMediaType(mediaType) || (isFlvPath(this.url) && !isTextMediaType(mediaType))) {
          await readFlvStream(response, this.camera, sink, (frame) => this.emit(frame, sink), (unit) => sink.onAudio?.(unit));
          return;
        }
        if (isJpegMediaType(mediaType) || (this.camera.snapshotIntervalMs > 0 && !isMultipartMediaType(mediaType))) {
          if (!this.polling) {
            this.polling = true;
            sink.log(`the camera answers single images: polling every ${Math.round(this.pollIntervalMs())} ms`);
          }
          if ((await this.readSnapshot(response, sink)) === 'aborted') return;
          if (!(await sleep(this.pollIntervalMs() - (performance.now() - started), sink.signal))) return;
          continue;
        }
        if (isTextMediaType(mediaType)) {
          response.destroy();
          throw new AdapterError('PROTOCOL', `the camera answered ${mediaType}, not ${isFlvPath(this.url) ? 'an FLV' : 'an MJPEG'} stream`);
        }
        await this.readStream(response, boundary, sink);
        return;
      }
    } catch (error) {
      if (sink.signal.aborted) return;
      throw error;
    } finally {
      client.close();
    }
  }

  private pollIntervalMs(): number {
    if (this.camera.snapshotIntervalMs > 0) return this.camera.snapshotIntervalMs;
    if (this.camera.inputFrameRate > 0) return 1000 / this.camera.inputFrameRate;
    return DEFAULT_POLL_INTERVAL_MS;
  }

  /** Reads a multipart body until it fails; resolves only when the signal aborts. */
  private async readStream(response: IncomingMessage, boundary: string | undefined, sink: AdapterSink): Promise<void> {
    const parser = new MultipartParser(boundary, { maxPartBytes: this.camera.maxFrameBytes, ...DEFAULT_MULTIPART_LIMITS });
    const outcome = await readBody(response, {
      signal: sink.signal,
      idleTimeoutMs: this.camera.readTimeoutMs,
      onChunk: (chunk) => {
        for (const data of parser.push(chunk)) this.emit(data, sink);
        this.droppedParts = parser.droppedParts;
      },
    }).catch((error: unknown) => {
      throw error instanceof AdapterError && error.code === 'CLOSED' ? streamEnded(parser, error) : error;
    });
    if (outcome === 'aborted') return;
    throw streamEnded(parser, undefined);
  }

  /** Reads one single-JPEG response; a body that is not a JPEG is dropped, several in a row are an error. */
  private async readSnapshot(response: IncomingMessage, sink: AdapterSink): Promise<'ok' | 'aborted'> {
    const max = this.camera.maxFrameBytes;
    const declared = Number(response.headers['content-length']);
    if (declared > max) {
      response.destroy();
      throw new AdapterError('PROTOCOL', `snapshot of ${declared} bytes is larger than the ${max} byte limit`);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    const outcome = await readBody(response, {
      signal: sink.signal,
      idleTimeoutMs: this.camera.readTimeoutMs,
      totalTimeoutMs: this.camera.readTimeoutMs,
      onChunk: (chunk) => {
        size += chunk.length;
        if (size > max) throw new AdapterError('PROTOCOL', `snapshot larger than the ${max} byte limit`);
        chunks.push(chunk);
      },
    });
    if (outcome === 'aborted') return outcome;
    const data = trimLineEnds(Buffer.concat(chunks, size));
    if (isCompleteJpeg(data)) {
      this.badSnapshots = 0;
      this.emit(data, sink);
      return 'ok';
    }
    this.droppedParts++;
    if (++this.badSnapshots >= MAX_BAD_SNAPSHOTS) {
      throw new AdapterError('PROTOCOL', `${MAX_BAD_SNAPSHOTS} snapshots in a row were not JPEG images`);
    }
    sink.log(`dropped a snapshot that is not a JPEG image (${size} bytes)`);
    return 'ok';
  }

  /** Hands on a frame (a JPEG's bytes are stamped with the arrival time), announcing the connection first. */
  private emit(frame: Buffer | VideoUnit, sink: AdapterSink): void {
    if (!this.connected) {
      this.connected = true;
      sink.onConnected();
    }
    sink.onFrame(Buffer.isBuffer(frame) ? jpegUnit(frame, performance.now()) : frame);
  }
}

/** The CLOSED error for a stream that ended, saying whether it broke off in the middle of a part. */
function streamEnded(parser: MultipartParser, cause: unknown): AdapterError {
  const why = parser.closed ? 'the camera ended the MJPEG stream with its closing boundary'
    : parser.midPart ? 'the camera closed the MJPEG stream in the middle of a part' : 'the camera closed the MJPEG stream';
  return new AdapterError('CLOSED', why, { cause });
}

/** Waits `ms` (nothing if not positive); resolves false at once if the signal aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  if (ms <= 0) return Promise.resolve(true);
  return new Promise((resolve) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** The registration for http:// and https:// sources. */
export const httpAdapter: AdapterRegistration = {
  schemes: ['http', 'https'],
  create: (camera) => new HttpAdapter(camera),
};
