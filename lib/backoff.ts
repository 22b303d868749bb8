/**
 * Retry timing for a supervisor. A fast phase retries short blips quickly (initialMs doubling up to fastCapMs for the
 * first fastAttempts tries, so a camera back after a few seconds is reconnected within about a second); after that the
 * delay doubles from fastCapMs up to maxMs. Every delay gets +/- `jitter` so that restarts of many cameras do not align.
 */
export interface BackoffOptions {
  readonly initialMs: number;
  readonly fastCapMs: number;
  readonly fastAttempts: number;
  readonly maxMs: number;
  readonly factor: number;
  readonly jitter: number;
  /** After running healthy this long, the next failure starts again from initialMs. */
  readonly resetAfterMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = {
  initialMs: 250,
  fastCapMs: 1000,
  fastAttempts: 8,
  maxMs: 60_000,
  factor: 2,
  jitter: 0.2,
  resetAfterMs: 30_000,
};

/** The delay before retry number `attempt` (0 for the first retry). */
export function backoffDelay(options: BackoffOptions, attempt: number, random: () => number = Math.random): number {
  const base =
    attempt < options.fastAttempts
      ? Math.min(options.fastCapMs, options.initialMs * options.factor ** attempt)
      : Math.min(options.maxMs, options.fastCapMs * options.factor ** (attempt - options.fastAttempts + 1));
  const spread = base * options.jitter * (random() * 2 - 1);
  return Math.max(0, Math.round(Math.min(options.maxMs, base + spread)));
}
