/**
 * The frames from the last keyframe on, kept so that a consumer joining late starts on a keyframe at once. Bounded in
 * frames and bytes: a longer group stops growing and waits for the next keyframe to be kept again.
 */
export class KeptGroup<T> {
  private kept: T[] = [];
  private bytes = 0;

  constructor(
    private readonly maxFrames: number,
    private readonly maxBytes: number,
  ) {}

  get frames(): readonly T[] {
    return this.kept;
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
