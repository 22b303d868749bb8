// Loaded into the relay by bench/s3-memory.ts (NODE_OPTIONS=--import): every 250 ms, the relay's memory by kind
// (process.memoryUsage() and V8's young generation) as one JSON line appended to $RELAY_MEMORY_SAMPLES.
import { appendFileSync } from 'node:fs';
import { getHeapSpaceStatistics } from 'node:v8';

const file = process.env.RELAY_MEMORY_SAMPLES;
if (file) {
  setInterval(() => {
    const newSpace = getHeapSpaceStatistics().find((space) => space.space_name === 'new_space');
    appendFileSync(file, `${JSON.stringify({ ...process.memoryUsage(), newSpace: newSpace?.space_size ?? 0, at: Date.now() })}\n`);
  }, 250).unref();
}
