import type { Server } from 'node:net';
import type { Socket } from 'node:net';
import type { SecurityConfig } from '../../conf/security.ts';
import { plainAddress } from './client-address.ts';

const PENDING = Symbol('relay.pendingAuthorisation');

type TrackedSocket = Socket & { [PENDING]?: () => void };

/** Connections refused at accept time, by reason, for /metrics. */
export interface ConnectionCounters {
  refusedPerIp: number;
  refusedUnauthenticated: number;
}

/** What limitConnections tracks on one server, for tests and metrics. */
export interface ConnectionLimits {
  readonly counters: ConnectionCounters;
  /** Connections now that have not yet made an authorised request. */
  readonly unauthenticated: number;
  /** Open connections from this address now. */
  connectionsFrom(address: string): number;
}

/**
 * Applies MaxUnauthenticatedConnections and MaxClientsPerIP when a connection is accepted (before any byte is read),
 * so that thousands of half-open or slowly-sent requests cannot hold thousands of sockets. Trusted proxies are exempt
 * from the per-address limit; the requests they forward are limited per forwarded address by the HTTP edge.
 * `event` is 'connection' for plain HTTP and 'secureConnection' for HTTPS (whose requests carry the TLS socket).
 */
export function limitConnections(server: Server, security: () => SecurityConfig, event: 'connection' | 'secureConnection' = 'connection'): ConnectionLimits {
  const counters: ConnectionCounters = { refusedPerIp: 0, refusedUnauthenticated: 0 };
  const perAddress = new Map<string, number>();
  let unauthenticated = 0;
  server.on(event, (socket: TrackedSocket) => {
    const limits = security();
    const address = plainAddress(socket.remoteAddress);
    const fromAddress = perAddress.get(address) ?? 0;
    if (unauthenticated >= limits.maxUnauthenticatedConnections) {
      counters.refusedUnauthenticated++;
      socket.destroy();
      return;
    }
    if (limits.maxClientsPerIp > 0 && fromAddress >= limits.maxClientsPerIp && !limits.trustProxy.includes(address)) {
      counters.refusedPerIp++;
      socket.destroy();
      return;
    }
    perAddress.set(address, fromAddress + 1);
    unauthenticated++;
    socket[PENDING] = () => {
      socket[PENDING] = undefined;
      unauthenticated--;
    };
    socket.once('close', () => {
      socket[PENDING]?.();
      const left = (perAddress.get(address) ?? 1) - 1;
      if (left > 0) perAddress.set(address, left);
      else perAddress.delete(address);
    });
  });
  return {
    counters,
    get unauthenticated() {
      return unauthenticated;
    },
    connectionsFrom: (address) => perAddress.get(address) ?? 0,
  };
}

/** Called once a request on this socket is authorised (or needs no authorisation): it no longer counts as unauthenticated. */
export function markAuthorised(socket: Socket): void {
  (socket as TrackedSocket)[PENDING]?.();
}
