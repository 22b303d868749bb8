import { ControlError } from './backend.ts';

/** Runs a backend's camera requests one at a time, in call order; once closed, refuses new ones. */
export class SerialRequests {
  private chain: Promise<unknown> = Promise.resolve();
  private closed = false;

  /** Runs `task` after every task queued before it. */
  run<T>(task: () => Promise<T>): Promise<T> {
    const run = this.chain.then(() => {
      if (this.closed) throw new ControlError('CAMERA_UNREACHABLE', 'camera control is closed');
      return task();
    });
    this.chain = run.catch(() => {});
    return run;
  }

  /** Refuses new tasks; true the first time, and resolves once the queued ones have settled. */
  async close(): Promise<boolean> {
    if (this.closed) return false;
    this.closed = true;
    await this.chain.catch(() => {});
    return true;
  }
}
