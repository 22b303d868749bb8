/** Escapes text for HTML element content and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** A template tag that escapes every interpolated value unless it was built by `html` itself (trusted markup). */
export function html(strings: TemplateStringsArray, ...values: unknown[]): Markup {
  let out = strings[0] ?? '';
  values.forEach((value, index) => {
    out += markupOf(value) + (strings[index + 1] ?? '');
  });
  return new Markup(out);
}

/** Markup that is already escaped; only `html` and `join` make it. */
export class Markup {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

/** Joins pieces of markup (or escaped text) into one piece of markup. */
export function join(parts: readonly unknown[], separator = ''): Markup {
  return new Markup(parts.map(markupOf).join(separator));
}

function markupOf(value: unknown): string {
  if (value instanceof Markup) return value.text;
  if (Array.isArray(value)) return value.map(markupOf).join('');
  if (value === null || value === undefined || value === false) return '';
  return escapeHtml(String(value));
}

/**
 * How a value reads on a page. The same formats are applied in the browser by player/status.js (FORMATS there),
 * so cells refreshed from /stat.json read exactly as the server rendered them.
 */
export type Format = 'text' | 'note' | 'count' | 'bytes' | 'kbps' | 'rate' | 'seconds' | 'time' | 'percent';

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

/** Formats a value for a page; null reads as a dash, or as nothing for a 'note' (e.g. no error). */
export function formatValue(value: unknown, format: Format): string {
  if (value === null || value === undefined) return format === 'note' ? '' : '–';
  if (format === 'note') return String(value);
  if (format === 'text') return String(value);
  if (format === 'time') return `${String(value).replace('T', ' ').slice(0, 19)}Z`;
  const number = Number(value);
  if (format === 'count') return String(Math.round(number));
  if (format === 'bytes') {
    let unit = 0;
    let scaled = number;
    while (scaled >= 1024 && unit < UNITS.length - 1) {
      scaled /= 1024;
      unit++;
    }
    return unit === 0 ? `${scaled} B` : `${scaled.toFixed(1)} ${UNITS[unit]}`;
  }
  if (format === 'kbps') return `${number.toFixed(1)} kbit/s`;
  if (format === 'rate') return number.toFixed(1);
  if (format === 'percent') return `${number.toFixed(1)}%`;
  return `${number.toFixed(1)} s`;
}

/**
 * A value the browser keeps fresh: `field` is its dotted path in the row's /stat.json object, `format` how to show it.
 * Without JavaScript it is simply the server's rendering.
 */
export function live(field: string, value: unknown, format: Format = 'text', tag = 'span'): Markup {
  return new Markup(`<${tag} data-f="${escapeHtml(field)}" data-fmt="${format}">${escapeHtml(formatValue(value, format))}</${tag}>`);
}

/** The page around a body: one stylesheet, optional scripts, no inline script (so a strict CSP could be added). */
export function layout(title: string, body: Markup, options: { scripts?: string[]; bodyClass?: string } = {}): string {
  const scripts = (options.scripts ?? []).map((src) => html`<script src="${src}" defer></script>`);
  return (
    '<!doctype html>' +
    html`<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">` +
    // An empty icon: without one, browsers ask for /favicon.ico and log its 404 as an error on every page.
    html`<title>${title}</title><link rel="icon" href="data:,"><link rel="stylesheet" href="/assets/relay.css">${scripts}</head>` +
    html`<body class="${options.bodyClass ?? ''}">${body}</body></html>`
  );
}
