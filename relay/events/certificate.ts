import { readFile } from 'node:fs/promises';
import { X509Certificate } from 'node:crypto';
import type { SecurityConfig } from '../../conf/security.ts';
import type { EventSink } from '../../lib/event-bus.ts';
import type { Logger } from '../../lib/log.ts';

/** A certificate this close to its end is reported, so that a failed renewal is noticed while there is time. */
export const CERTIFICATE_WARNING_MS = 14 * 86_400_000;
const CHECK_INTERVAL_MS = 12 * 3_600_000;

/** Days left of a PEM certificate (negative once expired), or undefined when it cannot be read. */
export function certificateDaysLeft(pem: Buffer, now = Date.now()): number | undefined {
  try {
    return (Date.parse(new X509Certificate(pem).validTo) - now) / 86_400_000;
  } catch {
    return undefined;
  }
}

/**
 * Checks SSLCertificateFile at start, every 12 hours and when asked (after a reload): certificate.expiring once per
 * certificate within 14 days of its end.
 */
export function watchCertificate(security: () => SecurityConfig, events: EventSink, log: Logger): { check(): Promise<void>; close(): void } {
  const reported = new Set<string>();
  const check = async (): Promise<void> => {
    const { httpsPort, certificateFile } = security();
    if (httpsPort === 0 || certificateFile === undefined) return;
    const pem = await readFile(certificateFile).catch(() => undefined);
    const days = pem && certificateDaysLeft(pem);
    if (pem === undefined || days === undefined || days * 86_400_000 > CERTIFICATE_WARNING_MS) return;
    const key = `${certificateFile} ${new X509Certificate(pem).fingerprint256}`;
    if (reported.has(key)) return;
    reported.add(key);
    const message = days <= 0 ? 'the TLS certificate has expired' : `the TLS certificate expires in ${days.toFixed(1)} days`;
    log.warn(`${certificateFile}: ${message}`);
    events.emit('certificate.expiring', certificateFile, message);
  };
  const timer = setInterval(() => void check(), CHECK_INTERVAL_MS);
  timer.unref();
  void check();
  return { check, close: () => clearInterval(timer) };
}
