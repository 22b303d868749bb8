import { performance } from 'node:perf_hooks';

/**
 * Milliseconds since the epoch with sub-millisecond resolution. Every bench process reads the same wall clock
 * (timeOrigin is taken from it when the process starts), so a stamp written by the camera can be compared with an
 * arrival time read in a load-generator worker.
 */
export function now(): number {
  return performance.timeOrigin + performance.now();
}

/** Resolves after ms milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls until check() is true or the deadline passes; returns whether it became true. */
export async function waitUntil(check: () => boolean, timeoutMs: number, stepMs = 20): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) return false;
    await sleep(stepMs);
  }
  return true;
}
