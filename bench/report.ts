import type { PlannedRun } from './plan.ts';
import type { ScenarioResult } from './scenario.ts';

/** A finished run, or the error that stopped it. */
export interface RunOutcome {
  readonly run: PlannedRun;
  readonly result?: ScenarioResult;
  readonly error?: string;
}

const fixed = (value: number, digits = 1): string => (Number.isFinite(value) ? value.toFixed(digits) : '-');

/** The table of every run, one line each. */
export function resultsTable(outcomes: readonly RunOutcome[]): string {
  const head = ['run', 'viewers open/asked', 'refused', 'disc.', 'MB/s out', 'fps/viewer', 'lag p50/p99/max ms', 'server CPU %',
    'CPU s/MB x1000', 'RSS max/mean MiB', 'ffmpeg CPU %', 'loadgen CPU %', 'camera conns', 'TTFF med/p95 ms (joins)', 'note'];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  for (const { run, result, error } of outcomes) {
    if (!result) {
      lines.push(`| ${run.spec.label} | ${run.spec.viewers} |${' |'.repeat(head.length - 3)} failed: ${error ?? '?'} |`);
      continue;
    }
    const r = result;
    lines.push(`| ${[
      r.spec.label,
      `${r.open}/${r.spec.viewers}${r.spec.stalled ? ` (${r.spec.stalled} never read)` : ''}`,
      r.refused,
      r.disconnects,
      fixed(r.deliveredMB / r.seconds),
      fixed(r.framesPerViewerPerSecond),
      `${fixed(r.lagP50)} / ${fixed(r.lagP99)} / ${fixed(r.lagMax)}`,
      fixed(r.cpuPercent),
      fixed(r.cpuSecondsPerMB * 1000, 3),
      `${fixed(r.rssMaxMiB)} / ${fixed(r.rssMeanMiB)}`,
      fixed(r.ffmpegCpuPercent),
      fixed(r.loadgenCpuPercent),
      r.cameraConnections,
      r.ttffJoins > 0 ? `${fixed(r.ttffMedian)} / ${fixed(r.ttffP95)} (${r.ttffJoins})` : '-',
      [r.aborted ?? '', r.cutFrames > 0 ? `${r.cutFrames} cut frames` : ''].filter(Boolean).join('; ') || '',
    ].join(' | ')} |`);
  }
  return lines.join('\n');
}

function find(outcomes: readonly RunOutcome[], label: string): ScenarioResult | undefined {
  return outcomes.find((outcome) => outcome.result?.spec.label === label)?.result;
}

/** Relay / peer ratios of CPU per delivered MB (below 1: the relay spends less per byte), lag and RSS. */
export function ratiosTable(outcomes: readonly RunOutcome[]): string {
  const lines = ['| format | N | peer | CPU/MB relay÷peer | server CPU % relay÷peer | lag p99 relay÷peer | RSS max relay÷peer | MB/s relay÷peer |', '|---|---|---|---|---|---|---|---|'];
  for (const outcome of outcomes) {
    const peer = outcome.result;
    if (!peer || peer.spec.target === 'relay' || outcome.run.group === 'slow' || outcome.run.group === 'maxn') continue;
    const relay = find(outcomes, `${peer.spec.format}-relay-${peer.spec.viewers}`);
    if (!relay) continue;
    const ratio = (a: number, b: number): string => fixed(a / b, 2);
    lines.push(`| ${peer.spec.format} | ${peer.spec.viewers} | ${peer.spec.target} | ${ratio(relay.cpuSecondsPerMB, peer.cpuSecondsPerMB)} | `
      + `${ratio(relay.cpuPercent, peer.cpuPercent)} | ${ratio(relay.lagP99, peer.lagP99)} | ${ratio(relay.rssMaxMiB, peer.rssMaxMiB)} | `
      + `${ratio(relay.deliveredMB, peer.deliveredMB)} |`);
  }
  return lines.join('\n');
}

/** Each target of the relay with the measured figure and whether it is met. */
export function targetsTable(outcomes: readonly RunOutcome[], counts: readonly number[], rssCount: number): string {
  const rows: string[] = ['| target | measured | met |', '|---|---|---|'];
  const add = (name: string, measured: string, met: boolean | undefined): void => {
    rows.push(`| ${name} | ${measured} | ${met === undefined ? 'not measured' : met ? 'yes' : '**no**'} |`);
  };
  for (const format of ['mjpeg', 'flv'] as const) {
    for (const n of counts) {
      const relay = find(outcomes, `${format}-relay-${n}`);
      const floor = find(outcomes, `${format}-floor-${n}`);
      const peerName = format === 'mjpeg' ? 'mjpeg-proxy' : 'nms';
      const peer = find(outcomes, `${format}-${peerName}-${n}`);
      if (relay && floor) {
        const ratio = relay.cpuSecondsPerMB / floor.cpuSecondsPerMB;
        add(`${format} N=${n}: CPU/MB within 1.2x of the floor`, `${fixed(ratio, 2)}x`, ratio <= 1.2);
      }
      if (relay && peer) add(`${format} N=${n}: CPU/MB below ${peerName}`, `${fixed(relay.cpuSecondsPerMB * 1000, 3)} vs ${fixed(peer.cpuSecondsPerMB * 1000, 3)} ms/MB`, relay.cpuSecondsPerMB < peer.cpuSecondsPerMB);
      if (relay) add(`${format} N=${n}: one camera connection`, String(relay.cameraConnections), relay.cameraConnections === 1);
    }
  }
  const rss = find(outcomes, `flv-relay-${rssCount}`);
  add(`RSS under 150 MB at ${rssCount} FLV viewers`, rss ? `${fixed(rss.rssMaxMiB)} MiB` : '-', rss ? rss.rssMaxMiB * 1.048576 < 150 : undefined);
  const lagN = Math.min(...counts);
  const mjpeg = find(outcomes, `mjpeg-relay-${lagN}`);
  add(`MJPEG lag p99 under 25 ms at ${lagN} viewers`, mjpeg ? `${fixed(mjpeg.lagP99)} ms` : '-', mjpeg ? mjpeg.lagP99 < 25 : undefined);
  for (const format of ['flv', 'mjpeg'] as const) {
    const run = find(outcomes, `${format}-relay-${lagN}`);
    add(`${format} time to first frame median under 150 ms`, run ? `${fixed(run.ttffMedian)} ms (p95 ${fixed(run.ttffP95)}, ${run.ttffJoins} joins)` : '-', run && run.ttffJoins > 0 ? run.ttffMedian < 150 : undefined);
    const results = outcomes.flatMap((outcome) => (outcome.result ? [outcome.result] : []));
    const calm = results.filter((result) => result.spec.label.startsWith(`slow-${format}-calm-${lagN}-`));
    const stalled = results.filter((result) => result.spec.label.startsWith(`slow-${format}-stalled-${lagN}-`));
    if (calm.length > 0 && stalled.length > 0) {
      const calmP99 = median(calm.map((outcome) => outcome.lagP99));
      const stalledP99 = median(stalled.map((outcome) => outcome.lagP99));
      const change = stalledP99 / calmP99 - 1;
      const each = `calm ${calm.map((o) => fixed(o.lagP99)).join(', ')}; stalled ${stalled.map((o) => fixed(o.lagP99)).join(', ')}`;
      add(`${format}: 10% never-reading viewers change p99 lag by under 10% (median of ${calm.length} alternated pairs)`, `${fixed(calmP99)} -> ${fixed(stalledP99)} ms (${fixed(change * 100)}%; ${each})`, Math.abs(change) < 0.1);
      const budgetMiB = (stalled[0]!.spec.stalled ?? 0) * 1; // ViewerBudget 1M per never-reading viewer
      const calmRss = Math.max(...calm.map((o) => o.rssMaxMiB));
      const stalledRss = Math.max(...stalled.map((o) => o.rssMaxMiB));
      add(`${format}: memory with never-reading viewers within budget (+${budgetMiB} MiB)`, `${fixed(calmRss)} -> ${fixed(stalledRss)} MiB`, stalledRss <= calmRss + budgetMiB);
    }
  }
  return rows.join('\n');
}

/** The largest 320x240 4 fps FLV audience held with p99 lag under 250 ms, and ffmpeg's CPU per transcode. */
export function capacityLines(outcomes: readonly RunOutcome[]): string[] {
  const steps = outcomes.filter((outcome) => outcome.run.group === 'maxn');
  const held = steps.filter((outcome) => outcome.result && holds(outcome.result)).map((outcome) => outcome.run.spec.viewers);
  const lines = [`- Largest N of a 320x240 4 fps FLV stream held with p99 lag < 250 ms (load generator on the same machine): `
    + `${held.length > 0 ? Math.max(...held) : 'none'} (steps tried: ${steps.map((outcome) => `${outcome.run.spec.viewers}${outcome.result ? `: p99 ${fixed(outcome.result.lagP99)} ms, ${outcome.result.open} open` : ': failed'}`).join('; ')})`];
  const qvga = steps.find((outcome) => outcome.result)?.result;
  const vga = outcomes.find((outcome) => outcome.result?.spec.label.startsWith('flv-relay-'))?.result;
  lines.push(`- ffmpeg CPU per transcoded stream: 320x240@4 fps ${qvga ? `${fixed(qvga.ffmpegCpuPercent)}%` : '-'}, `
    + `640x480@25 fps ${vga ? `${fixed(vga.ffmpegCpuPercent)}%` : '-'} (of one core)`);
  return lines;
}

/** A capacity step holds when every viewer stayed and p99 lag stayed under 250 ms. */
export function holds(result: ScenarioResult): boolean {
  return result.lagP99 < 250 && result.open >= result.spec.viewers && result.refused === 0 && result.aborted === undefined && result.lagSamples > 0;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}
