/**
 * Bounds how many child processes (encoders, JPEG decoders, recorders, file readers, synthetic cameras) run at
 * once across the relay (MaxProcesses). A start beyond the limit waits for a slot, and gives up its wait when aborted, so a huge config
 * queues its processes instead of forking thousands and freezing the event loop.
 */
export class ProcessSlots {
  private used = 0;
  private readonly waiters: Array<() => void> = [];

  constructor(readonly limit: number) {}

  get inUse(): number {
    return this.used;
  }

  get waiting(): number {
    return this.waiters.length;
  }

  /** Resolves with the release function once a slot is free, or with undefined if `signal` aborts first. */
  acquire(signal: AbortSignal): Promise<(() => void) | undefined> {
    if (signal.aborted) return Promise.resolve(undefined);
    if (this.used < this.limit) {
      this.used++;
      return Promise.resolve(this.releaser());
    }
    return new Promise((resolve) => {
      const grant = (): void => {
        signal.removeEventListener('abort', cancel);
        this.used++;
        resolve(this.releaser());
      };
      const cancel = (): void => {
        const index = this.waiters.indexOf(grant);
        if (index >= 0) this.waiters.splice(index, 1);
        resolve(undefined);
      };
      this.waiters.push(grant);
      signal.addEventListener('abort', cancel, { once: true });
    });
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.used--;
      this.waiters.shift()?.();
    };
  }
}

/** Runs `run` while holding a slot; resolves undefined without running it when `signal` aborts while waiting. */
export async function withProcessSlot<T>(slots: ProcessSlots, signal: AbortSignal, run: () => Promise<T>): Promise<T | undefined> {
  const release = await slots.acquire(signal);
  if (!release) return undefined;
  try {
    return await run();
  } finally {
    release();
  }
}

/** No limit: for tools and tests that run a single process. */
export const UNLIMITED_SLOTS = new ProcessSlots(Number.POSITIVE_INFINITY);
