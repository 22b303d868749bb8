import type { HistogramData } from '../histogram.ts';
import type { StreamTarget } from './viewer.ts';

/** Messages from the bench to a load-generator worker. */
export type ToWorker =
  | { readonly type: 'open'; readonly target: StreamTarget; readonly count: number; readonly stalled: number; readonly rampMs: number }
  | { readonly type: 'mark' }
  | { readonly type: 'ref'; readonly arrivals: Array<[number, number]> }
  | { readonly type: 'report' }
  | { readonly type: 'stop' };

/** Counters of one worker since the last mark. */
export interface WorkerReport {
  readonly bytes: number;
  readonly frames: number;
  readonly cutFrames: number;
  readonly lag: HistogramData;
  /** Viewers answered 200 and still open. */
  readonly open: number;
  /** Viewers refused (status other than 200, or no answer). */
  readonly refused: number;
  /** Viewers whose stream ended after a 200. */
  readonly disconnects: number;
  /** FLV: frames whose reference arrival never came (the reference viewer missed them). */
  readonly unmatched: number;
}

/** Messages from a worker to the bench. */
export type FromWorker =
  | { readonly type: 'opened'; readonly open: number; readonly refused: number; readonly pending: number }
  | { readonly type: 'report'; readonly report: WorkerReport };
