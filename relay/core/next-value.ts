/**
 * The next value a subscription delivers that `accept` takes, or undefined if `signal` aborts first; the subscription
 * and the abort listener are both removed once settled.
 */
export function nextValue<T>(
  subscribe: (listener: (value: T) => void) => () => void,
  signal: AbortSignal,
  accept: (value: T) => boolean = () => true,
): Promise<T | undefined> {
  return new Promise((resolve) => {
    const done = (value: T | undefined): void => {
      unsubscribe();
      signal.removeEventListener('abort', onAbort);
      resolve(value);
    };
    const onAbort = (): void => done(undefined);
    const unsubscribe = subscribe((value) => {
      if (accept(value)) done(value);
    });
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
