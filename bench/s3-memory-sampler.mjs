// Loaded into the relay by bench/s3-memory.ts (NODE_OPTIONS=--import): every 250 ms, the relay's memory by kind
// (process.memoryUsage() and V8's young generation) as one JSON line appended to $RELAY_MEMORY_SAMPLES. With
// RELAY_MEMORY_GC=1 a full garbage collection runs before each sample, so that the figures are what the relay holds
// (buffers and objects still referenced), not garbage V8 has not collected yet.
import { appendFileSync } from 'node:fs';
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

const file = process.env.RELAY_MEMORY_SAMPLES;
let collect;
if (process.env.RELAY_MEMORY_GC === '1') {
  setFlagsFromString('--expose-gc');
  collect = runInNewContext('gc');
}
if (file) {
  setInterval(() => {
    collect?.();
    const newSpace = getHeapSpaceStatistics().find((space) => space.space_name === 'new_space');
    appendFileSync(file, `${JSON.stringify({ ...process.memoryUsage(), newSpace: newSpace?.space_size ?? 0, at: Date.now() })}\n`);
  }, 250).unref();
}
