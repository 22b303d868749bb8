import { Counter, Gauge, type Registry } from 'prom-client';
import type { AccessHost } from './access.ts';

/** Adds the authentication and connection-limit metrics of a relay to its registry, read at scrape time. */
export function registerSecurityMetrics(registry: Registry, relay: AccessHost): void {
  const access = relay.access;
  new Counter({
    name: 'relay_auth_failures_total',
    help: 'Refused credentials: admin logins (plane="admin") and viewer requests without a valid token (plane="viewer").',
    labelNames: ['plane'],
    registers: [registry],
    collect() {
      this.reset();
      this.inc({ plane: 'admin' }, access.failedLogins.total);
      this.inc({ plane: 'viewer' }, access.viewerRefusals);
    },
  });
  new Counter({
    name: 'relay_auth_checks_refused_total',
    help: 'Credential checks answered (429) without hashing: one check at a time per address, a few at once in all.',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(access.verifications.refused);
    },
  });
  const limitsTotal = (count: (limits: (typeof access.connectionLimits)[number]) => number): number =>
    access.connectionLimits.reduce((sum, limits) => sum + count(limits), 0);
  reasonCounter(registry, 'relay_connections_refused_total',
    'Connections closed on accept by MaxClientsPerIP (reason="per_ip") or by MaxUnauthenticatedConnections/MaxUnauthenticatedPerIP when none held there is idle (reason="unauthenticated").',
    () => ({ per_ip: limitsTotal((limits) => limits.counters.refusedPerIp), unauthenticated: limitsTotal((limits) => limits.counters.refusedUnauthenticated) }));
  reasonCounter(registry, 'relay_connections_closed_total',
    'Idle unauthenticated connections closed to let newer ones in (reason="evicted") or for not sending a request within RequestHeaderTimeout (reason="no_request").',
    () => ({ evicted: limitsTotal((limits) => limits.counters.evictedIdle), no_request: limitsTotal((limits) => limits.counters.timedOut) }));
  new Gauge({
    name: 'relay_unauthenticated_connections',
    help: 'Connections now that have not yet made an authorised request.',
    registers: [registry],
    collect() {
      this.set(limitsTotal((limits) => limits.unauthenticated));
    },
  });
}

/** A counter labelled by reason, set at scrape time to the totals `read` gives, one per reason in its order. */
function reasonCounter(registry: Registry, name: string, help: string, read: () => Record<string, number>): void {
  new Counter({
    name,
    help,
    labelNames: ['reason'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [reason, total] of Object.entries(read())) this.inc({ reason }, total);
    },
  });
}
