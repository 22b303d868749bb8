import type { CameraControlConfig } from '../../conf/control.ts';
import type { Logger } from '../../lib/log.ts';
import { ControlError, within, type ControlBackend, type Ptz, type Speeds } from './backend.ts';
import { ControlQueue, type EntryView, type LeaveReason, type QueueEntry } from './queue.ts';

/** How often the queue's clocks are applied while anyone is in it. */
const TICK_MS = 250;
/** Event streams get the clocks this often even when nothing else changes. */
const PUSH_EVERY_MS = 1000;
/** Camera commands of one camera waiting or under way at most; more are refused rather than queued. */
const MAX_PENDING = 2;

/** Something that receives one entry's events (its Server-Sent Events stream). */
export interface EntrySubscriber {
  send(event: 'state' | 'ended', data: unknown): void;
  close(): void;
}

/** A command from a queue entry, checked and ready for the backend. */
export type Command =
  | { readonly kind: 'move'; readonly speeds: Speeds }
  | { readonly kind: 'goto'; readonly target: Ptz }
  | { readonly kind: 'stop' }
  | { readonly kind: 'preset'; readonly name: string };

/** Per-holder token bucket: `rate` commands a second, with a burst of as many. */
class Bucket {
  private tokens: number;
  private at: number;
  constructor(private readonly rate: number, now: number) {
    this.tokens = rate;
    this.at = now;
  }
  take(now: number): boolean {
    this.tokens = Math.min(this.rate, this.tokens + ((now - this.at) / 1000) * this.rate);
    this.at = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

/** Logs counts 1, 10, 100, ... so that a flood costs a handful of lines. */
const worthLogging = (count: number): boolean => Number.isInteger(Math.log10(count));

/**
 * One camera's control: its fair queue, its backend, and the event streams of the viewers in the queue. Only the
 * holder's commands reach the camera; each one is logged with the entry that sent it.
 */
export class CameraController {
  readonly queue: ControlQueue;
  private readonly subscribers = new Map<string, EntrySubscriber>();
  private readonly buckets = new Map<string, Bucket>();
  private timer: NodeJS.Timeout | undefined;
  private lastPush = 0;
  private pushScheduled = false;
  private pending = 0;
  private refused = 0;
  private lastPosition: Ptz | undefined;
  private closed = false;
  /** Whether a viewer moved the camera since it last went home. */
  private movedSinceHome = false;

  constructor(
    readonly camera: string,
    readonly config: CameraControlConfig,
    readonly backend: ControlBackend,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {
    this.queue = new ControlQueue(config, (entry, reason) => this.left(entry, reason), (entry) => this.granted(entry), now);
  }

  /** A viewer asks for control: its place, or a refusal when the queue or its address's share is full. */
  request(address: string): { entry: QueueEntry; view: EntryView } {
    if (this.closed) throw new ControlError('CAMERA_UNREACHABLE', 'camera control is closing');
    const entry = this.queue.join(address);
    if (entry === 'full') throw new ControlError('QUEUE_FULL', `the control queue is full (${this.config.maxQueue})`);
    if (entry === 'address') throw new ControlError('TOO_MANY_FROM_ADDRESS', `at most ${this.config.maxPerAddress} places in the queue per address`);
    this.log.info(`${entry.label} (${entry.address}) joined the control queue at place ${this.queue.view(entry.id)!.position}`);
    this.changed();
    return { entry, view: this.queue.view(entry.id)! };
  }

  /** Opens `id`'s event stream; false when it has no place. A second stream for one place replaces the first. */
  subscribe(id: string, subscriber: EntrySubscriber): boolean {
    const entry = this.queue.find(id);
    if (!entry) return false;
    this.subscribers.get(id)?.close();
    this.subscribers.set(id, subscriber);
    entry.connected = true;
    subscriber.send('state', this.stateOf(id));
    return true;
  }

  /** The event stream closed: the entry leaves the queue (unless a newer stream replaced it). */
  unsubscribe(id: string, subscriber: EntrySubscriber): void {
    if (this.subscribers.get(id) !== subscriber) return;
    this.subscribers.delete(id);
    this.queue.leave(id, 'disconnected');
  }

  leave(id: string): boolean {
    return this.queue.leave(id, 'left');
  }

  /** The operator takes control (admin plane). */
  takeOver(address: string): QueueEntry {
    const entry = this.queue.takeOver(address);
    this.log.info(`${entry.label} (${address}) took control`);
    this.changed();
    return entry;
  }

  setLocked(locked: boolean, address: string): void {
    this.queue.setLocked(locked);
    this.log.info(`the operator (${address}) ${locked ? 'locked' : 'unlocked'} control`);
    this.changed();
  }

  /** Runs a holder's command on the camera; refused (409) for anyone but the holder, 429 over the rate. */
  async command(id: string, command: Command): Promise<Ptz | undefined> {
    const entry = this.queue.holder;
    if (!entry || entry.id !== id) throw new ControlError('NOT_HOLDER', 'only the viewer holding control may steer the camera');
    const bucket = this.buckets.get(id) ?? new Bucket(this.config.commandsPerSecond, this.now());
    this.buckets.set(id, bucket);
    if (!bucket.take(this.now()) || this.pending >= MAX_PENDING) {
      this.refused++;
      if (worthLogging(this.refused)) this.log.warn(`${entry.label} (${entry.address}) sends commands too fast; ${this.refused} refused since start`);
      throw new ControlError('RATE_LIMITED', `at most ${this.config.commandsPerSecond} commands a second, one at a time`);
    }
    this.check(command);
    this.log.info(`${entry.label} (${entry.address}): ${describe(command)}`);
    this.pending++;
    try {
      const position = await this.run(command);
      if (position) this.lastPosition = position;
      this.movedSinceHome = true;
      // Only a command the camera took counts as activity: a camera that never answers lets the queue move on.
      this.queue.touch(id);
      this.changed();
      return position;
    } catch (error) {
      if (error instanceof ControlError) this.log.warn(`${entry.label}: ${describe(command)} failed: ${error.message}`);
      throw error;
    } finally {
      this.pending--;
    }
  }

  /** The queue and the last known position, as anyone may see them. */
  publicState(): Record<string, unknown> {
    return { ...this.queue.summary(), ptz: this.lastPosition, presets: this.backend.presets() };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    this.timer = undefined;
    this.queue.clear();
    await this.backend.close();
  }

  private check(command: Command): void {
    const { panRange, tiltRange, zoomRange } = this.config;
    if (command.kind === 'move') {
      const speeds = Object.values(command.speeds);
      if (!speeds.every((speed) => speed >= -1 && speed <= 1)) throw new ControlError('BAD_INPUT', 'move speeds run from -1 to 1');
    } else if (command.kind === 'goto') {
      const { pan, tilt, zoom } = command.target;
      if (!within(pan, panRange)) throw new ControlError('BAD_INPUT', `pan ${pan} is outside ${panRange[0]} to ${panRange[1]}`);
      if (!within(tilt, tiltRange)) throw new ControlError('BAD_INPUT', `tilt ${tilt} is outside ${tiltRange[0]} to ${tiltRange[1]}`);
      if (!within(zoom, zoomRange)) throw new ControlError('BAD_INPUT', `zoom ${zoom} is outside ${zoomRange[0]} to ${zoomRange[1]}`);
    }
  }

  private run(command: Command): Promise<Ptz | undefined> {
    if (command.kind === 'move') return this.backend.move(command.speeds);
    if (command.kind === 'goto') return this.backend.goto(command.target);
    if (command.kind === 'preset') return this.backend.gotoPreset(command.name);
    return this.backend.stop().then(() => undefined);
  }

  private stateOf(id: string): Record<string, unknown> {
    return { ...this.queue.view(id), ptz: this.lastPosition };
  }

  private granted(entry: QueueEntry): void {
    this.log.info(`${entry.label} (${entry.address}) has control`);
    this.changed();
  }

  private left(entry: QueueEntry, reason: LeaveReason): void {
    this.buckets.delete(entry.id);
    if (reason !== 'closed') this.log.info(`${entry.label} left the control queue (${reason})`);
    const subscriber = this.subscribers.get(entry.id);
    this.subscribers.delete(entry.id);
    if (subscriber) {
      subscriber.send('ended', { reason });
      subscriber.close();
    }
    if (reason !== 'closed' && this.queue.size === 0) this.goHome();
    this.changed();
  }

  /** With nobody left in the queue, the camera goes back to its home preset (ControlHomePreset), if it moved. */
  private goHome(): void {
    const home = this.config.homePreset;
    if (home === undefined || !this.movedSinceHome || this.closed) return;
    this.movedSinceHome = false;
    this.log.info(`the control queue is empty: back to preset ${home}`);
    this.backend.gotoPreset(home).then(
      (position) => {
        this.lastPosition = position;
        this.changed();
      },
      (error: Error) => this.log.warn(`going back to preset ${home} failed: ${error.message}`),
    );
  }

  /**
   * Pushes every entry its state (once per turn of the event loop however many changes came in it: a burst of N joins
   * costs N pushes, not N squared), and keeps the clocks running while anyone is in the queue.
   */
  private changed(): void {
    if (!this.pushScheduled) {
      this.pushScheduled = true;
      setImmediate(() => {
        this.pushScheduled = false;
        this.lastPush = this.now();
        for (const [id, subscriber] of this.subscribers) subscriber.send('state', this.stateOf(id));
      });
    }
    if (this.queue.size > 0 && !this.timer && !this.closed) {
      this.timer = setInterval(() => this.onTick(), TICK_MS);
      this.timer.unref();
    } else if (this.queue.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  private onTick(): void {
    const before = this.queue.holder;
    const size = this.queue.size;
    this.queue.tick();
    if (this.queue.holder !== before || this.queue.size !== size || this.now() - this.lastPush >= PUSH_EVERY_MS) this.changed();
  }
}

function describe(command: Command): string {
  if (command.kind === 'move') return `move pan ${command.speeds.pan} tilt ${command.speeds.tilt} zoom ${command.speeds.zoom}`;
  if (command.kind === 'goto') return `goto pan ${command.target.pan} tilt ${command.target.tilt} zoom ${command.target.zoom}`;
  if (command.kind === 'preset') return `preset ${command.name}`;
  return 'stop';
}
