// A load-generator process: opens viewers of one stream and measures what they receive. Driven over IPC by pool.ts.
import { sleep } from '../clock.ts';
import { Histogram } from '../histogram.ts';
import type { FromWorker, ToWorker } from './protocol.ts';
import { RawViewer, type StreamTarget, type ViewerListener } from './viewer.ts';
import { WsViewer } from './ws-viewer.ts';

type LoadViewer = RawViewer | WsViewer;

/** Reference arrivals older than this are forgotten; frames waiting longer for theirs are counted unmatched. */
const REF_KEEP_MS = 10_000;
const ANSWER_TIMEOUT_MS = 15_000;

const viewers = new Set<LoadViewer>();
const lag = new Histogram();
let format: StreamTarget['format'] = 'mjpeg';
let bytesAtMark = 0;
let framesAtMark = 0;
let cutAtMark = 0;
let refused = 0;
let disconnects = 0;
let unmatched = 0;
let answered = 0;
/** FLV: when the reference viewer got each tag (by timestamp), and arrivals still waiting for theirs. */
const reference = new Map<number, number>();
const waiting = new Map<number, number[]>();
let closedBytes = 0;
let closedFrames = 0;
let closedCut = 0;

const listener: ViewerListener<LoadViewer> = {
  onFrame(key, at) {
    if (format === 'mjpeg') {
      lag.record(at - key);
      return;
    }
    // WebSocket viewers count bytes and frames only: the reference viewer reads FLV, whose timestamps differ.
    if (format === 'ws') return;
    const referenceAt = reference.get(key);
    if (referenceAt !== undefined) lag.record(at - referenceAt);
    else {
      const list = waiting.get(key);
      if (list) list.push(at);
      else waiting.set(key, [at]);
    }
  },
  onAnswer(status, viewer) {
    answered++;
    if (status !== 200) {
      refused++;
      forget(viewer);
    }
  },
  onEnd(_reason, viewer) {
    disconnects++;
    forget(viewer);
  },
};

function forget(viewer: LoadViewer): void {
  if (!viewers.delete(viewer)) return;
  closedBytes += viewer.bytes;
  closedFrames += viewer.frames;
  closedCut += viewer.cutFrames;
}

function totals(): { bytes: number; frames: number; cut: number } {
  let bytes = closedBytes;
  let frames = closedFrames;
  let cut = closedCut;
  for (const viewer of viewers) {
    bytes += viewer.bytes;
    frames += viewer.frames;
    cut += viewer.cutFrames;
  }
  return { bytes, frames, cut };
}

function acceptReference(arrivals: Array<[number, number]>): void {
  for (const [key, at] of arrivals) {
    reference.set(key, at);
    const list = waiting.get(key);
    if (list) {
      for (const arrival of list) lag.record(arrival - at);
      waiting.delete(key);
    }
  }
  const newest = arrivals.at(-1)?.[1];
  if (newest === undefined) return;
  for (const [key, at] of reference) if (newest - at > REF_KEEP_MS) reference.delete(key);
  for (const [key, list] of waiting) {
    if (list[0]! < newest - REF_KEEP_MS) {
      unmatched += list.length;
      waiting.delete(key);
    }
  }
}

async function open(target: StreamTarget, count: number, stalled: number, rampMs: number): Promise<void> {
  format = target.format;
  const started = Date.now();
  for (let index = 0; index < count; index++) {
    // Spread the joins over the ramp; the never-reading viewers are spread among the others.
    const due = started + (rampMs * index) / count;
    if (due > Date.now()) await sleep(due - Date.now());
    const every = stalled > 0 ? Math.floor(count / stalled) : 0;
    const reads = !(every > 0 && index % every === 0 && index / every < stalled);
    viewers.add(target.format === 'ws' ? new WsViewer(target, listener, { readBody: reads }) : new RawViewer(target, listener, { readBody: reads }));
  }
  const deadline = Date.now() + ANSWER_TIMEOUT_MS;
  // Never-reading viewers may not read their answer either; they count as open.
  while (answered < count - stalled && Date.now() < deadline) await sleep(20);
  send({ type: 'opened', open: viewers.size, refused, pending: count - stalled - answered });
}

function report(): void {
  const { bytes, frames, cut } = totals();
  send({
    type: 'report',
    report: {
      bytes: bytes - bytesAtMark,
      frames: frames - framesAtMark,
      cutFrames: cut - cutAtMark,
      lag: lag.toData(),
      open: viewers.size,
      refused,
      disconnects,
      unmatched,
    },
  });
}

function send(message: FromWorker): void {
  process.send?.(message);
}

process.on('message', (message: ToWorker) => {
  switch (message.type) {
    case 'open':
      void open(message.target, message.count, message.stalled, message.rampMs);
      break;
    case 'mark': {
      const { bytes, frames, cut } = totals();
      bytesAtMark = bytes;
      framesAtMark = frames;
      cutAtMark = cut;
      lag.reset();
      disconnects = 0;
      unmatched = 0;
      break;
    }
    case 'ref':
      acceptReference(message.arrivals);
      break;
    case 'report':
      report();
      break;
    case 'stop':
      for (const viewer of viewers) viewer.close();
      process.exit(0);
  }
});
// The bench going away (even by SIGKILL) closes the IPC channel: never outlive it.
process.on('disconnect', () => process.exit(0));
