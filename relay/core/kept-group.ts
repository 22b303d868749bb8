/**
 * The one bound on every group kept for instant start (feed, encoders, RTP, FLV tags): 900 frames is 30 s at 30 fps,
 * 16 MB holds a long group of a high-rate camera. A longer group stops growing and waits for the next keyframe.
 */
export const KEPT_GROUP_MAX_FRAMES = 900;
export const KEPT_GROUP_MAX_BYTES = 16 * 1024 * 1024;

/**
 * The frames from the last keyframe on, kept so that a consumer joining late starts on a keyframe at once. Bounded in
 * frames and bytes: a longer group stops growing and waits for the next keyframe to be kept again.
 */
export class KeptGroup<T> {
  private kept: T[] = [];
  private bytes = 0;

  /** The bounds are the relay's one set; other values are for tests of the bounding itself. */
  constructor(
    private readonly maxFrames = KEPT_GROUP_MAX_FRAMES,
    private readonly maxBytes = KEPT_GROUP_MAX_BYTES,
  ) {}

  get frames(): readonly T[] {
    return this.kept;
  }

  /** Bytes of the kept frames, as `add` was told them. */
  get keptBytes(): number {
    return this.bytes;
  }

  /** Keeps a frame: a keyframe starts a new group; a frame before any keyframe is not kept. */
  add(frame: T, keyframe: boolean, size: number): void {
    if (keyframe) this.clear();
    if (this.kept.length === 0 && !keyframe) return;
    if (this.kept.length >= this.maxFrames || this.bytes + size > this.maxBytes) return;
    this.kept.push(frame);
    this.bytes += size;
  }

  clear(): void {
    this.kept = [];
    this.bytes = 0;
  }
}
