import type { EventsConfig } from '../../conf/events.ts';
import type { EventBus, RelayEvent } from '../../lib/event-bus.ts';
import type { Logger } from '../../lib/log.ts';
import { EventRateLimit } from './rate-limit.ts';
import { execSender, webhookSender, type EventSender } from './senders.ts';
import { pause } from '../../lib/pause.ts';

/** One event handed to one target, as /stat.json shows it. */
export interface DeliveryRecord {
  readonly event: string;
  readonly subject: string;
  readonly target: string;
  readonly ok: boolean;
  readonly attempts: number;
  readonly error: string | null;
  readonly at: string;
}

export interface TargetStatus {
  readonly target: string;
  readonly kind: 'webhook' | 'exec';
  readonly delivered: number;
  readonly failed: number;
  /** Events waiting for this target (behind a slow or retried one). */
  readonly queued: number;
  /** Events dropped because too many were waiting. */
  readonly dropped: number;
  readonly last: DeliveryRecord | null;
}

/** Alerts on /stat.json and /stat.html. */
export interface AlertsStatus {
  readonly emitted: number;
  /** Not sent because of OnEventRateLimit. */
  readonly suppressed: number;
  readonly targets: TargetStatus[];
  /** The latest deliveries, newest first. */
  readonly recent: DeliveryRecord[];
}

const RECENT_DELIVERIES = 20;
/** Events waiting per target; a receiver down for long loses the oldest, not the relay's memory. */
const MAX_QUEUED = 100;
const RETRY_FIRST_MS = 1000;
const RETRY_MAX_MS = 30_000;

interface Target {
  readonly sender: EventSender;
  readonly queue: Array<{ event: RelayEvent; body: string }>;
  busy: boolean;
  delivered: number;
  failed: number;
  dropped: number;
  last: DeliveryRecord | null;
}

/**
 * Sends each event of the bus to every OnEvent URL and the OnEventExec command: in order per target, retried with
 * doubling pauses, rate-limited across all events. Targets follow the config across reloads.
 */
export class Alerts {
  private readonly targets = new Map<string, Target>();
  private readonly recent: DeliveryRecord[] = [];
  private readonly limit = new EventRateLimit();
  private readonly stopController = new AbortController();
  private readonly unsubscribe: () => void;
  private emitted = 0;

  constructor(
    bus: EventBus,
    private readonly config: () => EventsConfig,
    private readonly log: Logger,
  ) {
    this.unsubscribe = bus.subscribe((event) => this.take(event));
  }

  status(): AlertsStatus {
    return {
      emitted: this.emitted,
      suppressed: this.limit.suppressedTotal,
      targets: [...this.targets.values()].map((target) => ({
        target: target.sender.label, kind: target.sender.kind, delivered: target.delivered, failed: target.failed,
        queued: target.queue.length, dropped: target.dropped, last: target.last,
      })),
      recent: [...this.recent],
    };
  }

  /** Stops listening, abandons retries and ends running commands. Safe to call twice. */
  close(): void {
    this.unsubscribe();
    this.stopController.abort();
  }

  private take(event: RelayEvent): void {
    if (this.stopController.signal.aborted) return;
    const config = this.config();
    const senders = this.sendersFor(config);
    if (senders.length === 0) return;
    this.emitted++;
    const admitted = this.limit.admit(Date.now(), config.ratePerMinute);
    if (admitted === undefined) return;
    // Events the limit held back are counted into the next one sent, so a receiver knows it missed some.
    const body = JSON.stringify({ ...event, suppressed: admitted });
    for (const target of senders) {
      if (target.queue.length >= MAX_QUEUED) {
        target.queue.shift();
        target.dropped++;
      }
      target.queue.push({ event, body });
      if (!target.busy) void this.drain(target);
    }
  }

  /** The targets of the current config, made on first use and kept (with their counters) while the config names them. */
  private sendersFor(config: EventsConfig): Target[] {
    const wanted: Array<() => EventSender> = config.urls.map((url) => () => webhookSender(url, config.secret));
    const keys = config.urls.map((url) => `webhook ${url} ${config.secret ?? ''}`);
    if (config.exec) {
      wanted.push(() => execSender(config.exec!));
      keys.push(`exec ${JSON.stringify(config.exec)}`);
    }
    for (const key of this.targets.keys()) if (!keys.includes(key)) this.targets.delete(key);
    return keys.map((key, index) => {
      let target = this.targets.get(key);
      if (!target) {
        target = { sender: wanted[index]!(), queue: [], busy: false, delivered: 0, failed: 0, dropped: 0, last: null };
        this.targets.set(key, target);
      }
      return target;
    });
  }

  /** Delivers a target's events one at a time, in order. */
  private async drain(target: Target): Promise<void> {
    target.busy = true;
    try {
      while (target.queue.length > 0 && !this.stopController.signal.aborted) {
        const { event, body } = target.queue[0]!;
        const record = await this.deliver(target.sender, event, body);
        target.queue.shift();
        if (record.ok) target.delivered++;
        else target.failed++;
        target.last = record;
        this.recent.unshift(record);
        this.recent.length = Math.min(this.recent.length, RECENT_DELIVERIES);
      }
    } finally {
      target.busy = false;
    }
  }

  private async deliver(sender: EventSender, event: RelayEvent, body: string): Promise<DeliveryRecord> {
    const { timeoutMs, retries } = this.config();
    const signal = this.stopController.signal;
    let error = '';
    let attempts = 0;
    for (let attempt = 0; attempt <= retries && !signal.aborted; attempt++) {
      if (attempt > 0) await pause(Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** (attempt - 1)), signal);
      if (signal.aborted) break;
      attempts++;
      try {
        await sender.send(body, event.type, timeoutMs, signal);
        this.log.info(`${event.type} ${event.subject}: sent to ${sender.label}${attempts > 1 ? ` (attempt ${attempts})` : ''}`);
        return { event: event.type, subject: event.subject, target: sender.label, ok: true, attempts, error: null, at: new Date().toISOString() };
      } catch (failure) {
        error = (failure as Error).message;
      }
    }
    this.log.warn(`${event.type} ${event.subject}: not delivered to ${sender.label} after ${attempts} attempt(s): ${error}`);
    return { event: event.type, subject: event.subject, target: sender.label, ok: false, attempts, error, at: new Date().toISOString() };
  }
}
