/**
 * Resolves after `ms`, or at once when `signal` aborts or the wake function handed to `onWake` is called; never
 * rejects, so a stopped wait needs no catch.
 */
export function pause(ms: number, signal: AbortSignal, onWake?: (wake: () => void) => void): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    onWake?.(done);
    signal.addEventListener('abort', done, { once: true });
  });
}
