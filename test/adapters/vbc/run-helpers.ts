import { setTimeout as sleep } from 'node:timers/promises';
import { AdapterError } from '../../../adapters/errors.ts';
import type { CameraAdapter } from '../../../adapters/types.ts';
import { RecordingSink } from '../../helpers/sink.ts';

/** How a run() ended, or 'running' if it has not yet. */
export type RunOutcome = { state: 'running' } | { state: 'resolved' } | { state: 'rejected'; error: unknown };

/** An adapter run in the background with its sink, its outcome observable without awaiting it. */
export class BackgroundRun {
  readonly sink = new RecordingSink();
  outcome: RunOutcome = { state: 'running' };
  readonly done: Promise<void>;
  readonly startedAt = performance.now();
  /** Date.now() at the start, to compare with RecordingSink.connectedAt. */
  readonly startedWall = Date.now();

  constructor(adapter: CameraAdapter) {
    this.done = adapter.run(this.sink).then(
      () => {
        this.outcome = { state: 'resolved' };
      },
      (error: unknown) => {
        this.outcome = { state: 'rejected', error };
      },
    );
  }

  /** Waits (bounded) for the run to end and returns the AdapterError it rejected with; throws if it did otherwise. */
  async failure(withinMs: number): Promise<AdapterError> {
    await Promise.race([this.done, sleep(withinMs)]);
    const outcome = this.outcome;
    if (outcome.state !== 'rejected') throw new Error(`run() is ${outcome.state} after ${withinMs} ms, expected a rejection`);
    if (!(outcome.error instanceof AdapterError)) throw new Error(`run() rejected with a non-AdapterError: ${String(outcome.error)}`);
    return outcome.error;
  }

  /** Aborts the sink and waits (bounded) for run() to settle; returns how it ended. */
  async stop(withinMs = 2000): Promise<RunOutcome> {
    this.sink.stop();
    await Promise.race([this.done, sleep(withinMs)]);
    return this.outcome;
  }
}

/** Polls `condition` every 10 ms until it holds; rejects after `timeoutMs`. */
export async function waitUntil(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const until = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(10);
  }
}
