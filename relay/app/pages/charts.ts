import { HISTORY_INTERVAL_MS, type Measure, type SeriesKey, type StatusHistory } from '../history.ts';
import { formatValue, html, type Format, type Markup } from '../../../lib/html.ts';

const WIDTH = 180;
const HEIGHT = 36;

/** The chart columns, in order: which measure, its heading and how its values read. */
const COLUMNS: ReadonlyArray<{ measure: Measure; heading: string; format: Format }> = [
  { measure: 'viewers', heading: 'Viewers', format: 'count' },
  { measure: 'outKbps', heading: 'Bandwidth out', format: 'kbps' },
  { measure: 'inputFps', heading: 'Input fps', format: 'rate' },
  { measure: 'originRequestsPerSecond', heading: 'Origin requests/s', format: 'rate' },
];

/**
 * A sparkline as inline SVG: the newest sample at the right edge, the slot of the oldest possible sample at the left,
 * zero at the bottom and the series' peak at the top. Gaps (null) break the line.
 */
export function sparkline(values: ReadonlyArray<number | null>, capacity: number, label: string): Markup {
  const peak = Math.max(0, ...values.filter((value): value is number => value !== null));
  const scale = peak > 0 ? peak : 1;
  const first = capacity - values.length;
  const step = WIDTH / Math.max(1, capacity - 1);
  const runs: string[][] = [];
  let run: string[] | undefined;
  values.forEach((value, index) => {
    if (value === null) {
      run = undefined;
      return;
    }
    const x = round((first + index) * step);
    const y = round(HEIGHT - 1 - (value / scale) * (HEIGHT - 2));
    if (!run) runs.push((run = []));
    run.push(`${x},${y}`);
  });
  const shapes = runs.map((points) => (points.length === 1
    ? html`<circle cx="${points[0]!.split(',')[0]}" cy="${points[0]!.split(',')[1]}" r="1.5"/>`
    : html`<polyline points="${points.join(' ')}"/>`));
  return html`<svg class="spark" viewBox="0 0 ${WIDTH} ${HEIGHT}" width="${WIDTH}" height="${HEIGHT}" role="img" aria-label="${label}"><title>${label}</title>${shapes}</svg>`;
}

const round = (value: number): number => Math.round(value * 10) / 10;

/** The chart of one series with its latest and peak values, or an empty cell if the series is not kept. */
function chartCell(history: StatusHistory, key: SeriesKey, format: Format, heading: string): Markup {
  const values = history.values(key.owner, key.name, key.measure);
  if (!values) return html`<td></td>`;
  const present = values.filter((value): value is number => value !== null);
  const latest = present.length > 0 && values.at(-1) !== null ? values.at(-1)! : null;
  const peak = present.length > 0 ? Math.max(...present) : null;
  const who = key.owner === 'server' ? 'all streams' : `${key.owner} ${key.name}`;
  const label = `${heading} of ${who}, last hour: now ${formatValue(latest, format)}, peak ${formatValue(peak, format)}`;
  return html`<td data-series="${key.owner}/${key.name}/${key.measure}">${sparkline(values, history.capacity, label)}
<small>${formatValue(latest, format)} (peak ${formatValue(peak, format)})</small></td>`;
}

/**
 * The "last hour" section of /stat.html: one row for the server, each camera and each stream, one chart per measure.
 * player/status.js swaps it for a fresh rendering after each new sample (data-sampled-at).
 */
export function renderCharts(history: StatusHistory): Markup {
  const owners = new Map<string, { owner: SeriesKey['owner']; name: string }>();
  for (const { key } of history.all()) owners.set(`${key.owner}/${key.name}`, { owner: key.owner, name: key.name });
  const rows = [...owners.values()].map(({ owner, name }) => html`<tr><th>${owner === 'server' ? 'server' : `${owner} ${name}`}</th>${COLUMNS.map(
    (column) => chartCell(history, { owner, name, measure: column.measure }, column.format, column.heading),
  )}</tr>`);
  const minutes = Math.round((history.capacity * HISTORY_INTERVAL_MS) / 60_000);
  return html`<section id="charts" data-refresh-ms="${HISTORY_INTERVAL_MS}" data-sampled-at="${history.lastSampleAt}">
<h2>Last ${minutes} minutes <small>one sample every ${HISTORY_INTERVAL_MS / 1000} s, newest on the right</small></h2>
<table class="charts"><thead><tr><th></th>${COLUMNS.map((column) => html`<th>${column.heading}</th>`)}</tr></thead>
<tbody>${rows}</tbody></table></section>`;
}
