import type { IncomingHttpHeaders } from 'node:http';
import { AdapterError } from '../errors.ts';

/**
 * Canon WebView HTTP answers errors with HTTP 200 and a `Livescope-Status: <code> <message>` header
 * (and a body starting `--- WebView Livescope Http Server Error ---`); `0` means success.
 * Returns the error that header reports, or undefined when there is none.
 */
export function livescopeError(headers: IncomingHttpHeaders): AdapterError | undefined {
  const raw = headers['livescope-status'];
  const value = (Array.isArray(raw) ? raw[0] : raw)?.trim();
  if (value === undefined || value === '0') return undefined;
  const match = /^(\d{1,4})\s*(.*)$/.exec(value);
  const code = match ? Number(match[1]) : undefined;
  const message = printable(match ? match[2]! : value);
  const text = `Livescope ${code ?? 'error'}${message ? ` ${message}` : ''}`;
  return new AdapterError(code === 401 || code === 403 ? 'AUTH' : 'UPSTREAM_STATUS', text);
}

/** Keeps what a camera put in a status line safe and short for /stat.html. */
export function printable(text: string, max = 80): string {
  return text.replace(/[^\x20-\x7e]/g, '?').trim().slice(0, max);
}
