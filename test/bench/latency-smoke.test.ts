import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { killAll } from '../../bench/procs.ts';
import { latencyTable, runLatency } from '../../bench/latency/run-latency.ts';

// Guards the latency bench against rot: the clock must be read back from frames the FLV and MJPEG players really show.
const logDir = await mkdtemp(join(tmpdir(), 'relay-bench-latency-smoke-'));
t.teardown(async () => {
  killAll();
  await rm(logDir, { recursive: true, force: true });
});

t.test('FLV and MJPEG players show frames whose clock reads back', async (t) => {
  const rows = await runLatency({ seconds: 3, opens: 1, logDir, only: ['FLV', 'MJPEG'] });
  t.same(rows.map((row) => row.label.split(' ')[0]), ['FLV', 'MJPEG']);
  for (const row of rows) {
    t.ok(row.samples.length >= 25, `${row.label}: ${row.samples.length} frames decoded in 3 s`);
    const sorted = [...row.samples].sort((a, b) => a - b);
    // Generous bounds: a loaded 2-core machine, but never a negative or absurd latency (a misread clock).
    t.ok(sorted[0]! >= 0 && sorted.at(-1)! < 10_000, `${row.label}: latencies ${sorted[0]}..${sorted.at(-1)} ms`);
  }
  t.equal(rows[0]!.firstFrames.length, 1, 'the FLV page\'s first frame was timed');
  t.match(latencyTable(rows), /\| FLV via mpegts\.js .* \| p50 < 1000 ms: /);
});
