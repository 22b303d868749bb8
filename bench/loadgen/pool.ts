import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Histogram } from '../histogram.ts';
import type { FromWorker, ToWorker, WorkerReport } from './protocol.ts';
import type { StreamTarget } from './viewer.ts';

const WORKER = fileURLToPath(new URL('./worker.ts', import.meta.url));
const REPLY_TIMEOUT_MS = 30_000;

/** The merged counters of every worker since the last mark. */
export interface LoadReport {
  readonly bytes: number;
  readonly frames: number;
  readonly cutFrames: number;
  readonly lag: Histogram;
  readonly open: number;
  readonly refused: number;
  readonly disconnects: number;
  readonly unmatched: number;
}

/** Load-generator worker processes (child_process.fork), each holding a share of the viewers. */
export class LoadPool {
  private readonly workers: ChildProcess[] = [];

  constructor(count: number) {
    for (let index = 0; index < count; index++) {
      this.workers.push(fork(WORKER, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
    }
  }

  get pids(): number[] {
    return this.workers.map((worker) => worker.pid!).filter((pid) => pid !== undefined);
  }

  /** Opens `count` viewers (of which `stalled` never read) spread over the workers and over rampMs. */
  async open(target: StreamTarget, count: number, stalled: number, rampMs: number): Promise<{ open: number; refused: number; pending: number }> {
    const shares = this.workers.map((_, index) => share(count, this.workers.length, index));
    const stalledShares = this.workers.map((_, index) => share(stalled, this.workers.length, index));
    const replies = await Promise.all(this.workers.map((worker, index) =>
      this.ask(worker, { type: 'open', target, count: shares[index]!, stalled: stalledShares[index]!, rampMs }, 'opened', rampMs + REPLY_TIMEOUT_MS)));
    return replies.reduce(
      (sum, reply) => ({ open: sum.open + reply.open, refused: sum.refused + reply.refused, pending: sum.pending + reply.pending }),
      { open: 0, refused: 0, pending: 0 },
    );
  }

  /** Starts the measured window: counters and lag histograms restart from zero. */
  mark(): void {
    for (const worker of this.workers) worker.send({ type: 'mark' } satisfies ToWorker);
  }

  /** Hands FLV reference arrivals (tag timestamp, arrival time) to every worker. */
  reference(arrivals: Array<[number, number]>): void {
    if (arrivals.length === 0) return;
    for (const worker of this.workers) if (worker.connected) worker.send({ type: 'ref', arrivals } satisfies ToWorker);
  }

  async report(): Promise<LoadReport> {
    const reports = await Promise.all(this.workers.map((worker) => this.ask(worker, { type: 'report' }, 'report', REPLY_TIMEOUT_MS)));
    const lag = new Histogram();
    const sum = (pick: (report: WorkerReport) => number): number => reports.reduce((total, { report }) => total + pick(report), 0);
    for (const { report } of reports) lag.merge(report.lag);
    return {
      bytes: sum((report) => report.bytes),
      frames: sum((report) => report.frames),
      cutFrames: sum((report) => report.cutFrames),
      lag,
      open: sum((report) => report.open),
      refused: sum((report) => report.refused),
      disconnects: sum((report) => report.disconnects),
      unmatched: sum((report) => report.unmatched),
    };
  }

  /** Closes every viewer and ends the workers (SIGKILL for one that does not exit within a second). */
  async stop(): Promise<void> {
    await Promise.all(this.workers.map((worker) => new Promise<void>((resolve) => {
      if (worker.exitCode !== null || worker.signalCode !== null) return resolve();
      const timer = setTimeout(() => worker.kill('SIGKILL'), 1000);
      worker.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      if (worker.connected) worker.send({ type: 'stop' } satisfies ToWorker);
      else worker.kill('SIGKILL');
    })));
  }

  private ask<K extends FromWorker['type']>(worker: ChildProcess, message: ToWorker, reply: K, timeoutMs: number): Promise<Extract<FromWorker, { type: K }>> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        worker.off('message', onMessage);
        reject(new Error(`load worker ${worker.pid} gave no '${reply}' within ${timeoutMs} ms`));
      }, timeoutMs);
      const onMessage = (answer: FromWorker): void => {
        if (answer.type !== reply) return;
        clearTimeout(timer);
        worker.off('message', onMessage);
        resolve(answer as Extract<FromWorker, { type: K }>);
      };
      worker.on('message', onMessage);
      worker.send(message);
    });
  }
}

/** The index-th of `parts` near-equal shares of total. */
function share(total: number, parts: number, index: number): number {
  return Math.floor(total / parts) + (index < total % parts ? 1 : 0);
}
