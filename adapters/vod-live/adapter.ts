import { stat } from 'node:fs/promises';
import type { CameraConfig } from '../../conf/types.ts';
import { UNLIMITED_SLOTS, withProcessSlot, type ProcessSlots } from '../../lib/process-slots.ts';
import { VodError } from '../../media/file/errors.ts';
import { resolveMediaFile, type MediaFile } from '../../media/file/path.ts';
import { probeMediaFile, type MediaInfo } from '../../media/file/probe.ts';
import { AdapterError } from '../errors.ts';
import type { AdapterRegistration } from '../registry.ts';
import type { AdapterSink, CameraAdapter } from '../types.ts';
import { playH264Pass, type PassAudio } from './h264-pass.ts';
import { playJpegPass } from './jpeg-pass.ts';
import type { PassContext } from './pass.ts';
import type { ObjectStore } from '../../lib/object-store.ts';
import { isS3Name } from '../../media/file/s3-object.ts';
import { objectFailure, objectInput, openPlayableObject, wholeCopyPath, type PlayableObject } from './s3-source.ts';

/** The media directory when the adapter is created without one (the MediaPath default). */
const DEFAULT_MEDIA_PATH = './media';
/** How often a playing file is checked for deletion. */
const DELETION_CHECK_MS = 1000;

/** A vod-live:// Source: the file's name under MediaPath (percent-encoded as in a URL) and the JPEG playback rate. */
export interface VodLiveSource {
  readonly file: string;
  readonly fps: number;
}

/** Parses `vod-live://dir/movie.mp4?fps=20`; `fps` (default 25) paces JPEG files, which carry no timing of their own. */
export function parseVodLiveSource(source: string): VodLiveSource {
  const match = /^vod-live:\/\/([^?#]*)(?:\?([^#]*))?$/i.exec(source);
  if (!match || !match[1]) throw new AdapterError('PROTOCOL', 'a vod-live:// source names a file, e.g. vod-live://movie.mp4');
  const fpsText = new URLSearchParams(match[2] ?? '').get('fps') ?? '25';
  const fps = Number(fpsText);
  if (!Number.isFinite(fps) || fps <= 0 || fps > 120) throw new AdapterError('PROTOCOL', `fps must be above 0 and at most 120, got "${fpsText.slice(0, 20)}"`);
  return { file: match[1], fps };
}

/**
 * Plays a file from MediaPath as a live camera: in real time, one reader of the file however many viewers, looping
 * with `Loop yes` (timestamps keep increasing across loops), failing with a clear error when the file is missing,
 * unreadable, or deleted while it plays. With `Loop no` it holds at the end of the file (state "waiting") until the
 * last viewer has left and the camera stops.
 */
export class VodLiveAdapter implements CameraAdapter {
  readonly kind = 'vod-live';

  constructor(
    private readonly camera: CameraConfig,
    private readonly ffmpegPath: string,
    private readonly mediaPath: string,
    private readonly slots: ProcessSlots = UNLIMITED_SLOTS,
    private readonly stores: ReadonlyMap<string, ObjectStore> = new Map(),
  ) {}

  async run(sink: AdapterSink): Promise<void> {
    const source = parseVodLiveSource(this.camera.source);
    if (isS3Name(source.file)) {
      // An object in a bucket: played while it downloads, by ranged reads as ffmpeg takes the bytes.
      const playable = await openPlayableObject(this.stores, source.file, this.ffmpegPath, sink.signal);
      const file: MediaFile = { name: playable.object.name, path: playable.object.name, stats: undefined as never };
      return withProcessSlot(this.slots, sink.signal, () => this.play(sink, file, playable.info, source, playable));
    }
    const file = await resolveMediaFile(this.mediaPath, source.file).catch((error: unknown) => {
      throw new AdapterError('UPSTREAM_STATUS', error instanceof VodError ? error.message : 'File not found');
    });
    const info = await probeMediaFile(file.path, this.ffmpegPath).catch((error: unknown) => {
      throw new AdapterError('PROTOCOL', error instanceof VodError ? error.message : 'The file cannot be read');
    });
    // MP4 files are read by an ffmpeg child, which takes one of the relay's process slots (MaxProcesses).
    if (info.kind === 'ffmpeg') await withProcessSlot(this.slots, sink.signal, () => this.play(sink, file, info, source));
    else await this.play(sink, file, info, source);
  }

  /** Plays the file pass after pass (once with Loop no), watching for its deletion, until stopped or failed. */
  private async play(sink: AdapterSink, file: MediaFile, info: MediaInfo, source: VodLiveSource, playable?: PlayableObject): Promise<void> {
    const controller = new AbortController();
    const stopPass = (): void => controller.abort();
    sink.signal.addEventListener('abort', stopPass, { once: true });
    // Stopped while the file was being checked: the abort event has fired already, so it is not waited for.
    if (sink.signal.aborted) controller.abort();
    let deleted = false;
    // A bucket object's deletion shows as a read failure; a local file's is watched for.
    const watcher = playable ? undefined : setInterval(() => {
      stat(file.path).catch(() => {
        deleted = true;
        controller.abort();
      });
    }, DELETION_CHECK_MS);
    let connected = false;
    let offsetMs = 0;
    try {
      while (!controller.signal.aborted) {
        // A whole local copy is fetched again for each pass: the cache may have let it go since the last one.
        const copy = playable?.info.wholeCopy ? await wholeCopyPath(playable) : undefined;
        const streamed = playable && !copy;
        const context: PassContext = {
          path: copy ?? file.path, name: file.name, offsetMs, signal: controller.signal, ffmpegPath: this.ffmpegPath,
          maxFrameBytes: this.camera.maxFrameBytes, fps: source.fps,
          ...(streamed ? { openInput: () => objectInput(playable, controller.signal, (message) => sink.log(message)), inputFailure: objectFailure } : {}),
          emit: (frame) => {
            if (!connected) {
              connected = true;
              sink.onConnected();
            }
            sink.onFrame(frame);
          },
          emitAudio: (unit) => sink.onAudio?.(unit),
          audioLeftOut: (reason) => {
            sink.log(reason);
            sink.onAudioLeftOut?.(reason);
          },
        };
        offsetMs = info.kind === 'ffmpeg'
          ? await playH264Pass(context, info.videoCodec === 'h264', passAudio(info))
          : await playJpegPass(context, info.kind === 'jpeg-length-prefixed');
        if (deleted) throw new AdapterError('CLOSED', 'File not found: the file was deleted while playing');
        if (!this.camera.loop) break;
      }
      if (!controller.signal.aborted) {
        sink.log('end of file: holding until the last viewer leaves (Loop no)');
        sink.onWaiting();
        await new Promise<void>((resolve) => controller.signal.addEventListener('abort', () => resolve(), { once: true }));
        if (deleted && !sink.signal.aborted) throw new AdapterError('CLOSED', 'File not found: the file was deleted while playing');
      }
    } finally {
      clearInterval(watcher);
      sink.signal.removeEventListener('abort', stopPass);
    }
  }
}

/** What a pass does with the file's first audio track: FLV carries AAC, so AAC is copied and anything else encoded once. */
function passAudio(info: MediaInfo): PassAudio {
  if (!info.hasAudio) return 'none';
  return info.audioCodec === 'aac' ? 'copy' : 'aac';
}

export const vodLiveAdapter: AdapterRegistration = {
  schemes: ['vod-live'],
  create: (camera, env) => new VodLiveAdapter(camera, env.ffmpegPath, env.mediaPath ?? DEFAULT_MEDIA_PATH, env.processSlots, env.objectStores),
};
