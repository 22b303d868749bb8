import { Demand } from './demand.ts';
import { unitBytes, type H264Unit, type H264Source, type H264Track } from '../../media/types.ts';

/** What a hub needs to know of the items it carries, and whom to tell about demand and failing subscribers. */
export interface HubOptions<T> {
  /** True for an item a consumer can start on (a keyframe): it starts a new kept group. */
  readonly keyframe: (item: T) => boolean;
  /** Bytes of an item, for the kept group's byte bound. */
  readonly size: (item: T) => number;
  /** A subscriber threw: it has been removed; the others still got the item. */
  readonly onSubscriberError?: (error: Error) => void;
  /** Runs on every acquire (`first` for the first holder), so a stopped producer restarts. */
  readonly onAcquire?: (first: boolean) => void;
  /** Runs when the last holder releases. */
  readonly onLast?: () => void;
}

export type Subscriber<T> = (item: T) => void;

/**
 * One producer's items handed to many subscribers: each gets every item in order, none can break the others (one
 * that throws is reported and removed), the group from the last keyframe on is kept for consumers that join late,
 * and `acquire()` counts who needs the producer running.
 */
export class Hub<T> {
  private readonly subscribers = new Set<Subscriber<T>>();
  private readonly group = new KeptGroup<T>();
  private readonly demand: Demand;
  private newest: T | undefined;

  constructor(private readonly options: HubOptions<T>) {
    this.demand = new Demand(options.onAcquire ?? (() => {}), options.onLast ?? (() => {}));
  }

  /** Items from the last keyframe on (bounded), so a consumer that joins starts on a keyframe at once. */
  get groupOfPictures(): readonly T[] {
    return this.group.frames;
  }

  /** The newest item published since the last reset, kept or not. */
  get latest(): T | undefined {
    return this.newest;
  }

  /** Holders counted by acquire(). */
  get holders(): number {
    return this.demand.holders;
  }

  get subscriberCount(): number {
    return this.subscribers.size;
  }

  /** Adds a subscriber for the items published from now on; returns the function that removes it. */
  subscribe(subscriber: Subscriber<T>): () => void {
    this.subscribers.add(subscriber);
    return () => this.unsubscribe(subscriber);
  }

  /** Removes a subscriber; false if it was not there. */
  unsubscribe(subscriber: Subscriber<T>): boolean {
    return this.subscribers.delete(subscriber);
  }

  /** Holds the producer running while the release function is not called (safe to call twice). */
  acquire(): () => void {
    return this.demand.acquire();
  }

  publish(item: T): void {
    this.newest = item;
    this.group.add(item, this.options.keyframe(item), this.options.size(item));
    for (const subscriber of this.subscribers) {
      try {
        subscriber(item);
      } catch (error) {
        // A subscriber that failed once would fail again on the next item: it goes, the others carry on.
        this.subscribers.delete(subscriber);
        this.options.onSubscriberError?.(error instanceof Error ? error : new Error(String(error)));
      }
    }
  }

  /** Forgets the kept group and the newest item (a producer restart): nobody may start on a finished run's frames. */
  reset(): void {
    this.group.clear();
    this.newest = undefined;
  }

  /** Removes every subscriber (the producer is closing). */
  clearSubscribers(): void {
    this.subscribers.clear();
  }
}

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

/** The demand hooks and error report of an encoder's hub. */
export type EncodedHubOptions = Pick<HubOptions<H264Unit>, 'onAcquire' | 'onLast' | 'onSubscriberError'>;

/** An encoder's access units on a hub, with the current track: what every packager of its streams reads. */
export class EncodedHub extends Hub<H264Unit> implements H264Source {
  track: H264Track | undefined;

  constructor(
    readonly id: string,
    options: EncodedHubOptions = {},
  ) {
    super({ ...options, keyframe: (frame) => frame.keyframe, size: unitBytes });
  }

  override publish(frame: H264Unit): void {
    this.track = frame.track;
    super.publish(frame);
  }
}
