/**
 * Counts who holds a resource: `onFirst` runs when the first holder arrives (and on every acquire, so a stopped
 * resource restarts), `onLast` when the last one leaves. Each release function works once.
 */
export class Demand {
  private count = 0;

  constructor(
    private readonly onAcquire: (first: boolean) => void,
    private readonly onLast: () => void,
  ) {}

  get holders(): number {
    return this.count;
  }

  acquire(): () => void {
    this.onAcquire(++this.count === 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (--this.count === 0) this.onLast();
    };
  }
}
