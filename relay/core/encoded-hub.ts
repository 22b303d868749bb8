import { KeptGroup } from './kept-group.ts';
import type { EncodedFrameListener, EncodedVideoFrame, EncodedVideoSource, H264Track } from '../../media/types.ts';

/** The group kept for instant start is bounded; a longer one waits for the next keyframe to be kept again. */
const MAX_GOP_FRAMES = 900;
const MAX_GOP_BYTES = 16 * 1024 * 1024;

/**
 * Hands an encoder's frames to every subscriber and keeps the current group of pictures. A listener that throws
 * is reported and kept; it cannot stop the others from getting the frame.
 */
export class EncodedHub implements EncodedVideoSource {
  track: H264Track | undefined;
  private readonly gop = new KeptGroup<EncodedVideoFrame>(MAX_GOP_FRAMES, MAX_GOP_BYTES);
  private readonly listeners = new Set<EncodedFrameListener>();

  constructor(
    readonly id: string,
    private readonly demand: () => () => void,
    private readonly onListenerError: (error: Error) => void = () => {},
  ) {}

  get groupOfPictures(): readonly EncodedVideoFrame[] {
    return this.gop.frames;
  }

  subscribe(listener: EncodedFrameListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  acquire(): () => void {
    return this.demand();
  }

  /** Forgets the group (encoder restart): nobody joining later may start on frames of a finished run. */
  reset(): void {
    this.gop.clear();
  }

  publish(frame: EncodedVideoFrame): void {
    this.track = frame.track;
    this.gop.add(frame, frame.keyframe, frame.nalus.reduce((sum, nal) => sum + nal.length, 0));
    for (const listener of this.listeners) {
      try {
        listener(frame);
      } catch (error) {
        this.onListenerError(error as Error);
      }
    }
  }
}
