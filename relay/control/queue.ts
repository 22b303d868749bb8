import { randomBytes } from 'node:crypto';

/** One place in a camera's control queue. `id` is the capability: whoever shows it acts as this entry. */
export interface QueueEntry {
  readonly id: string;
  /** Safe to log and show: `viewer 12` or `operator 3`. */
  readonly label: string;
  readonly address: string;
  readonly operator: boolean;
  readonly joinedAt: number;
  /** Whether its event stream is open; an entry never connected is dropped after the idle time. */
  connected: boolean;
}

/** Why an entry left the queue. */
export type LeaveReason = 'left' | 'disconnected' | 'idle' | 'time' | 'never-connected' | 'closed';

export interface QueueSettings {
  readonly holdMs: number;
  readonly maxHoldMs: number;
  readonly idleMs: number;
  readonly maxQueue: number;
  readonly maxPerAddress: number;
}

/** What the queue tells one entry: its place (0 holds control), and the holder's clocks. */
export interface EntryView {
  readonly position: number;
  readonly holder: string | undefined;
  readonly waiting: number;
  readonly locked: boolean;
  /** Left of the holder's time, ms (undefined while an operator holds, or nobody). */
  readonly timeLeftMs: number | undefined;
  readonly idleLeftMs: number | undefined;
}

interface Hold {
  readonly entry: QueueEntry;
  grantedAt: number;
  endsAt: number;
  lastActiveAt: number;
}

/**
 * A fair control queue for one camera: first come, first served; the holder keeps control for holdMs, renewed by
 * activity up to maxHoldMs while others wait (and freely while nobody does), and loses it after idleMs without a
 * command. An operator takes control at once (the viewer holding it goes back to the head of the queue) and may lock
 * the camera against viewers. Time is read from `now` so that tests can drive it.
 */
export class ControlQueue {
  private readonly waiting: QueueEntry[] = [];
  private hold: Hold | undefined;
  private serial = 0;
  locked = false;

  constructor(
    private readonly settings: QueueSettings,
    private readonly onLeave: (entry: QueueEntry, reason: LeaveReason) => void,
    private readonly onGrant: (entry: QueueEntry) => void,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.waiting.length + (this.hold ? 1 : 0);
  }

  get holder(): QueueEntry | undefined {
    return this.hold?.entry;
  }

  /** Adds a viewer at the back; refused when the queue or the address's share is full. */
  join(address: string): QueueEntry | 'full' | 'address' {
    const viewers = this.entries().filter((entry) => !entry.operator);
    if (viewers.length >= this.settings.maxQueue) return 'full';
    if (viewers.filter((entry) => entry.address === address).length >= this.settings.maxPerAddress) return 'address';
    const entry = this.makeEntry(address, false);
    this.waiting.push(entry);
    this.grantNext();
    return entry;
  }

  /** The operator takes control now; a viewer holding it goes back to the head of the queue. */
  takeOver(address: string): QueueEntry {
    const entry = this.makeEntry(address, true);
    entry.connected = true;
    if (this.hold) {
      const previous = this.hold.entry;
      this.hold = undefined;
      if (previous.operator) this.onLeave(previous, 'left');
      else this.waiting.unshift(previous);
    }
    this.grant(entry);
    return entry;
  }

  /** Locked, no viewer gets control (a viewer holding it goes back to the head of the queue). */
  setLocked(locked: boolean): void {
    this.locked = locked;
    if (locked && this.hold && !this.hold.entry.operator) {
      this.waiting.unshift(this.hold.entry);
      this.hold = undefined;
    }
    this.grantNext();
  }

  find(id: string): QueueEntry | undefined {
    return this.entries().find((entry) => entry.id === id);
  }

  leave(id: string, reason: LeaveReason): boolean {
    if (this.hold?.entry.id === id) {
      const entry = this.hold.entry;
      this.hold = undefined;
      this.onLeave(entry, reason);
      this.grantNext();
      return true;
    }
    const at = this.waiting.findIndex((entry) => entry.id === id);
    if (at < 0) return false;
    const [entry] = this.waiting.splice(at, 1);
    this.onLeave(entry!, reason);
    return true;
  }

  /** Whether `id` holds control now. */
  isHolder(id: string): boolean {
    return this.hold?.entry.id === id;
  }

  /** A command from the holder: its idle clock restarts and its hold runs on, within the maximum. */
  touch(id: string): void {
    const hold = this.hold;
    if (!hold || hold.entry.id !== id) return;
    const now = this.now();
    hold.lastActiveAt = now;
    hold.endsAt = Math.max(hold.endsAt, Math.min(hold.grantedAt + this.settings.maxHoldMs, now + this.settings.holdMs));
  }

  /** Applies the clocks: idle and expired holders lose control, entries that never connected are dropped. */
  tick(): void {
    const now = this.now();
    for (const entry of [...this.waiting]) {
      if (!entry.connected && now - entry.joinedAt >= this.settings.idleMs) this.leave(entry.id, 'never-connected');
    }
    const hold = this.hold;
    if (!hold || hold.entry.operator) return;
    if (!hold.entry.connected && now - hold.entry.joinedAt >= this.settings.idleMs) this.leave(hold.entry.id, 'never-connected');
    else if (now - hold.lastActiveAt >= this.settings.idleMs) this.leave(hold.entry.id, 'idle');
    else if (now >= hold.endsAt) {
      if (this.waiting.length > 0 && !this.locked) this.leave(hold.entry.id, 'time');
      // Nobody waits: the hold starts over rather than taking control from someone who is using it.
      else hold.endsAt = now + this.settings.holdMs;
    }
  }

  /** What `id` sees, or undefined when it has no place. */
  view(id: string): EntryView | undefined {
    const position = this.hold?.entry.id === id ? 0 : this.waiting.findIndex((entry) => entry.id === id) + 1;
    if (position < 0 || (position === 0 && this.hold?.entry.id !== id)) return undefined;
    return { ...this.summary(), position };
  }

  /** The queue as anyone may see it. */
  summary(): Omit<EntryView, 'position'> {
    const now = this.now();
    const hold = this.hold;
    const timed = hold && !hold.entry.operator;
    return {
      holder: hold?.entry.label,
      waiting: this.waiting.length,
      locked: this.locked,
      timeLeftMs: timed ? Math.max(0, hold.endsAt - now) : undefined,
      idleLeftMs: timed ? Math.max(0, hold.lastActiveAt + this.settings.idleMs - now) : undefined,
    };
  }

  entries(): QueueEntry[] {
    return this.hold ? [this.hold.entry, ...this.waiting] : [...this.waiting];
  }

  /** Everyone leaves (the camera's control is closing). */
  clear(): void {
    for (const entry of this.entries()) this.onLeave(entry, 'closed');
    this.waiting.length = 0;
    this.hold = undefined;
  }

  private makeEntry(address: string, operator: boolean): QueueEntry {
    // 144 random bits: a place in the queue cannot be guessed from another.
    const id = randomBytes(18).toString('base64url');
    return { id, label: `${operator ? 'operator' : 'viewer'} ${++this.serial}`, address, operator, joinedAt: this.now(), connected: false };
  }

  private grantNext(): void {
    if (this.hold || this.locked) return;
    const next = this.waiting.shift();
    if (next) this.grant(next);
  }

  private grant(entry: QueueEntry): void {
    const now = this.now();
    this.hold = { entry, grantedAt: now, endsAt: now + this.settings.holdMs, lastActiveAt: now };
    this.onGrant(entry);
  }
}
