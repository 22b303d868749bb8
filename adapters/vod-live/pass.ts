import type { Readable } from 'node:stream';
import type { AdapterError } from '../errors.ts';
import type { AudioUnit } from '../types.ts';
import type { VideoUnit } from '../../media/types.ts';

/** What one pass over a file needs: where to read, where timestamps start, and where frames go. */
export interface PassContext {
  /** The real path, for opening only. */
  readonly path: string;
  /** The name as configured, for messages. */
  readonly name: string;
  /** The timestamp of this pass's first frame, ms: passes continue where the previous one ended. */
  readonly offsetMs: number;
  readonly signal: AbortSignal;
  readonly ffmpegPath: string;
  readonly maxFrameBytes: number;
  /** JPEG files carry no timing: frames per second to play them at. */
  readonly fps: number;
  emit(unit: VideoUnit): void;
  /** The file's sound, on the same timeline as its frames. */
  emitAudio?(unit: AudioUnit): void;
  /** The file's sound cannot be read (a bad AAC configuration): why; the picture plays on without it. */
  audioLeftOut?(reason: string): void;
  /** Objects in a bucket: the file's bytes from its start, fed to ffmpeg's stdin instead of opening `path`. */
  openInput?(): Readable;
  /** The words a failure of openInput's stream is reported with. */
  inputFailure?(error: unknown): AdapterError;
}
