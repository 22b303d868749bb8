import { Counter, Gauge, type Registry } from 'prom-client';
import { accessControlOf } from './access.ts';

type RelayLike = Parameters<typeof accessControlOf>[0];

/** Adds the authentication and connection-limit metrics of a relay to its registry, read at scrape time. */
export function registerSecurityMetrics(registry: Registry, relay: RelayLike): void {
  const access = accessControlOf(relay);
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
  new Counter({
    name: 'relay_connections_refused_total',
    help: 'Connections closed on accept by MaxClientsPerIP (reason="per_ip") or by MaxUnauthenticatedConnections/MaxUnauthenticatedPerIP when none held there is idle (reason="unauthenticated").',
    labelNames: ['reason'],
    registers: [registry],
    collect() {
      this.reset();
      this.inc({ reason: 'per_ip' }, access.connectionLimits.reduce((sum, limits) => sum + limits.counters.refusedPerIp, 0));
      this.inc({ reason: 'unauthenticated' }, access.connectionLimits.reduce((sum, limits) => sum + limits.counters.refusedUnauthenticated, 0));
    },
  });
  new Counter({
    name: 'relay_connections_closed_total',
    help: 'Idle unauthenticated connections closed to let newer ones in (reason="evicted") or for not sending a request within RequestHeaderTimeout (reason="no_request").',
    labelNames: ['reason'],
    registers: [registry],
    collect() {
      this.reset();
      this.inc({ reason: 'evicted' }, access.connectionLimits.reduce((sum, limits) => sum + limits.counters.evictedIdle, 0));
      this.inc({ reason: 'no_request' }, access.connectionLimits.reduce((sum, limits) => sum + limits.counters.timedOut, 0));
    },
  });
  new Gauge({
    name: 'relay_unauthenticated_connections',
    help: 'Connections now that have not yet made an authorised request.',
    registers: [registry],
    collect() {
      this.set(access.connectionLimits.reduce((sum, limits) => sum + limits.unauthenticated, 0));
    },
  });
}
