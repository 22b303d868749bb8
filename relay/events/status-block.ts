import { html, type Markup } from '../../lib/html.ts';
import type { AlertsStatus, DeliveryRecord } from './alerts.ts';

function deliveryRow(record: DeliveryRecord): Markup {
  return html`<tr><td>${record.at}</td><td>${record.event}</td><td>${record.subject}</td><td>${record.target}</td>
<td>${record.ok ? 'ok' : 'failed'}</td><td>${record.attempts}</td><td class="error">${record.error ?? ''}</td></tr>`;
}

/** The alerts section of /stat.html: each target's counts and the latest deliveries; nothing when no target is set. */
export function renderAlertsBlock(status: AlertsStatus | null | undefined): Markup {
  if (!status || status.targets.length === 0) return html``;
  const targets = status.targets.map((target) => html`<tr data-key="alerts/${target.target}"><td>${target.kind}</td><td>${target.target}</td>
<td>${target.delivered}</td><td>${target.failed}</td><td>${target.queued}</td><td>${target.dropped}</td>
<td class="error">${target.last && !target.last.ok ? target.last.error : ''}</td></tr>`);
  return html`<h2>Alerts</h2>
<p class="alerts">${status.emitted} event(s), ${status.suppressed} held back by OnEventRateLimit</p>
<table class="alert-targets"><thead><tr><th>Kind</th><th>Target</th><th>Delivered</th><th>Failed</th><th>Queued</th><th>Dropped</th><th>Last error</th></tr></thead>
<tbody>${targets}</tbody></table>
<table class="alert-deliveries"><thead><tr><th>At</th><th>Event</th><th>Subject</th><th>Target</th><th>Result</th><th>Attempts</th><th>Error</th></tr></thead>
<tbody>${status.recent.map(deliveryRow)}</tbody></table>`;
}
