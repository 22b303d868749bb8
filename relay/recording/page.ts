import { html, layout } from '../../lib/html.ts';
import type { Recordings } from './recordings.ts';

const DAY_MS = 86_400_000;

const clock = (ms: number): string => new Date(ms).toISOString().slice(11, 19);

/**
 * /recordings/CAMERA: one UTC day's timeline of recorded spans (the day of the latest recording unless `day` is
 * given) and the same spans as a list; choosing one plays it through /record/get in the page's video element
 * (player/recordings.js), and each has a download link that works without JavaScript. Positions on the timeline are
 * data attributes that recordings.js applies through the CSSOM: the Content-Security-Policy refuses inline styles.
 */
export function renderRecordingsPage(camera: string, recordings: Recordings, day: string | undefined, now: number): string {
  const latest = recordings.index.segments(camera).at(-1)?.start ?? now;
  const dayStart = day ? Date.parse(`${day}T00:00:00Z`) : Math.floor(latest / DAY_MS) * DAY_MS;
  const dayName = new Date(dayStart).toISOString().slice(0, 10);
  const spans = recordings.index.spans(camera, dayStart, dayStart + DAY_MS);
  const cap = recordings.config.recording.maxRequestSeconds;
  const dayLink = (offset: number) => `/recordings/${camera}?day=${new Date(dayStart + offset).toISOString().slice(0, 10)}`;
  const bars = spans.map((span) => {
    const left = ((span.start - dayStart) / DAY_MS) * 100;
    const width = ((span.end - span.start) / DAY_MS) * 100;
    return html`<button class="span" title="${clock(span.start)} – ${clock(span.end)}" data-start="${new Date(span.start).toISOString()}"
 data-duration="${Math.min(cap, Math.ceil((span.end - span.start) / 1000))}" data-left="${left.toFixed(4)}" data-width="${width.toFixed(4)}"></button>`;
  });
  const items = spans.map((span) => {
    const start = new Date(span.start).toISOString();
    const seconds = Math.min(cap, Math.ceil((span.end - span.start) / 1000));
    const get = `/record/get?camera=${encodeURIComponent(camera)}&start=${encodeURIComponent(start)}&duration=${seconds}`;
    return html`<li><button class="play" data-start="${start}" data-duration="${seconds}">▶ ${clock(span.start)} – ${clock(span.end)}</button>
 <span class="muted">${Math.round((span.end - span.start) / 1000)} s</span> · <a href="${get}">download</a></li>`;
  });
  const hours = Array.from({ length: 25 }, (_, hour) => html`<span class="hour" data-left="${((hour / 24) * 100).toFixed(4)}">${hour % 3 === 0 ? hour : ''}</span>`);
  const body = html`<h1>Recordings: ${camera}</h1>
<p class="nav"><a href="/">cameras</a> · <a href="${dayLink(-DAY_MS)}">◀ previous day</a> · <strong>${dayName} (UTC)</strong>
 · <a href="${dayLink(DAY_MS)}">next day ▶</a></p>
<div class="timeline" data-camera="${camera}">${bars}<div class="hours">${hours}</div></div>
<video id="playback" controls muted playsinline width="640"></video>
<ul class="spans">${items.length > 0 ? items : html`<li class="muted">nothing recorded on this day</li>`}</ul>`;
  return layout(`Recordings: ${camera}`, body, { scripts: ['/assets/recordings.js'], bodyClass: 'recordings' });
}
