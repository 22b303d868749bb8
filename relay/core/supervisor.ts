import type PQueue from 'p-queue';
import { backoffDelay, DEFAULT_BACKOFF, type BackoffOptions } from '../../lib/backoff.ts';
import type { Logger } from '../../lib/log.ts';
import { pause } from '../../lib/pause.ts';

/** What /stat.html shows of anything supervised. */
export type SupervisedState = 'stopped' | 'idle' | 'starting' | 'live' | 'retrying' | 'waiting';

export interface LastError {
  readonly message: string;
  readonly at: number;
  /** 'start' when it failed before going live, 'run' when it died later. */
  readonly phase: 'start' | 'run';
}

/**
 * The work a supervisor runs: hold the resource until it fails (reject) or `signal` aborts (resolve).
 * Call `live()` once it works, which ends the start phase and frees its place in the start queue; `waiting()` when it
 * is ready but waits for someone else to begin (a push source waiting for its publisher), which also frees the place.
 */
export type SupervisedTask = (signal: AbortSignal, live: () => void, waiting: () => void) => Promise<void>;

export interface SupervisorOptions {
  readonly name: string;
  readonly task: SupervisedTask;
  /** Bounds how many starts run at once across the relay. */
  readonly startQueue: PQueue;
  readonly log: Logger;
  readonly backoff?: BackoffOptions;
  /** A start that has not gone live by then gives its queue place back (it keeps trying). */
  readonly startSlotMs?: number;
  /** Safe messages only: called with each failure's message, for errors shown on the status page. */
  readonly describeError?: (error: unknown) => string;
  /** Told of each state change worth an alert: live, an outage's first failure, still down after failedAfterMs, back. */
  readonly onChange?: (change: SupervisorChange, message: string) => void;
  /** An outage this long is reported `failed` (once); default one minute. */
  readonly failedAfterMs?: number;
}

/** The state changes a supervisor reports through `onChange`. */
export type SupervisorChange = 'live' | 'retrying' | 'failed' | 'recovered';

/**
 * Runs a task, restarts it with jittered exponential backoff when it fails, and tells "failed to start" from
 * "died later". Stops that it caused are not errors. stop() is safe to call twice.
 */
export class Supervisor {
  state: SupervisedState = 'stopped';
  lastError: LastError | undefined;
  liveSince: number | undefined;
  nextAttemptAt: number | undefined;
  restarts = 0;
  private controller: AbortController | undefined;
  private loop: Promise<void> | undefined;
  private wakeUp: (() => void) | undefined;
  private readonly backoff: BackoffOptions;
  /** The current outage (first failure since last live), so that it is one warning, not one per retry. */
  private outage: { since: number; failures: number; reportedFailed: boolean } | undefined;

  constructor(private readonly options: SupervisorOptions) {
    this.backoff = options.backoff ?? DEFAULT_BACKOFF;
  }

  get running(): boolean {
    return this.controller !== undefined;
  }

  start(): void {
    if (this.controller) return;
    const controller = new AbortController();
    this.controller = controller;
    this.loop = this.runLoop(controller.signal);
  }

  /** Aborts the current run and waits for it to end. */
  async stop(): Promise<void> {
    const controller = this.controller;
    if (!controller) return;
    this.controller = undefined;
    controller.abort();
    this.wakeUp?.();
    await this.loop;
    // A start() while this stop waited owns the state now: the new run is not stopped.
    if (this.controller) return;
    this.outage = undefined;
    this.state = 'stopped';
    this.liveSince = undefined;
    this.nextAttemptAt = undefined;
  }

  /** Runs the task until stopped: each failure is recorded, then retried after the backoff delay. */
  private async runLoop(signal: AbortSignal): Promise<void> {
    let attempt = 0;
    const { log } = this.options;
    while (!signal.aborted) {
      this.state = 'starting';
      this.nextAttemptAt = undefined;
      let wentLive = false;
      let liveAt = 0;
      const run = this.runOnce(
        signal,
        () => {
          wentLive = true;
          liveAt = Date.now();
          this.state = 'live';
          this.liveSince = liveAt;
          if (this.outage) {
            const back = `back after ${formatSeconds(liveAt - this.outage.since)} down (${this.outage.failures} failed attempt(s))`;
            log.info(back);
            this.options.onChange?.('recovered', back);
            this.outage = undefined;
          } else this.options.onChange?.('live', 'live');
        },
        () => {
          this.state = 'waiting';
          this.liveSince = undefined;
        },
      );
      try {
        await run;
        if (signal.aborted) break;
        throw new Error('ended without an error');
      } catch (error) {
        if (signal.aborted) break;
        const message = this.options.describeError ? this.options.describeError(error) : String((error as Error)?.message ?? error);
        const phase = wentLive ? 'run' : 'start';
        this.lastError = { message, at: Date.now(), phase };
        if (wentLive && Date.now() - liveAt >= this.backoff.resetAfterMs) attempt = 0;
        const delay = backoffDelay(this.backoff, attempt++);
        this.state = 'retrying';
        this.liveSince = undefined;
        this.nextAttemptAt = Date.now() + delay;
        this.restarts++;
        const what = `${phase === 'start' ? 'failed to start' : 'died'}: ${message}; retrying in ${(delay / 1000).toFixed(1)} s`;
        if (!this.outage) {
          this.outage = { since: Date.now(), failures: 1, reportedFailed: false };
          log.warn(`${what} (further retries of this outage are logged as info)`);
          this.options.onChange?.('retrying', what);
        } else {
          this.outage.failures++;
          const still = `still down after ${formatSeconds(Date.now() - this.outage.since)}, attempt ${this.outage.failures}: ${what}`;
          log.info(still);
          if (!this.outage.reportedFailed && Date.now() - this.outage.since >= (this.options.failedAfterMs ?? 60_000)) {
            this.outage.reportedFailed = true;
            this.options.onChange?.('failed', still);
          }
        }
        await this.sleep(delay, signal);
      }
    }
  }

  /** One run of the task; its start phase holds a place in the shared start queue. */
  private runOnce(signal: AbortSignal, onLive: () => void, onWaiting: () => void): Promise<void> {
    let releaseSlot!: () => void;
    const slotFreed = new Promise<void>((resolve) => (releaseSlot = resolve));
    let slotTimer: NodeJS.Timeout | undefined;
    let begin!: () => void;
    const admitted = new Promise<void>((resolve) => (begin = resolve));
    void this.options.startQueue.add(() => {
      // The place is given back after startSlotMs counted from admission: a start that waited in the queue keeps its full time.
      slotTimer = setTimeout(releaseSlot, this.options.startSlotMs ?? 10_000);
      begin();
      return slotFreed;
    });
    return admitted.then(async () => {
      try {
        if (signal.aborted) return;
        await this.options.task(
          signal,
          () => {
            releaseSlot();
            onLive();
          },
          () => {
            releaseSlot();
            onWaiting();
          },
        );
      } finally {
        clearTimeout(slotTimer);
        releaseSlot();
      }
    });
  }

  private sleep(ms: number, signal: AbortSignal): Promise<void> {
    return pause(ms, signal, (wake) => {
      this.wakeUp = wake;
    });
  }
}

function formatSeconds(ms: number): string {
  return `${Math.round(ms / 100) / 10} s`;
}
