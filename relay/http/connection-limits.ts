import type { Server } from 'node:net';
import type { Socket } from 'node:net';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SecurityConfig } from '../../conf/security.ts';
import { plainAddress } from '../../lib/address.ts';

const ENTRY = Symbol('relay.connectionEntry');

/** One accepted connection as the limits see it. */
interface Entry {
  readonly socket: Socket;
  readonly address: string;
  /** Still counted against MaxUnauthenticatedConnections. */
  unauthenticated: boolean;
  /** Requests on it now; a connection with one in progress is not idle and is never evicted. */
  requests: number;
  /** Closes the connection if no request has arrived by RequestHeaderTimeout (also bounds a TLS handshake). */
  deadline: NodeJS.Timeout | undefined;
  /** Stops counting it as unauthenticated (its first authorised request). */
  authorised(): void;
}

type TrackedSocket = Socket & { [ENTRY]?: Entry; _parent?: TrackedSocket };

/** Connections refused at accept time or closed to make room, by reason, for /metrics. */
export interface ConnectionCounters {
  /** Refused at accept: the address is at MaxClientsPerIP. */
  refusedPerIp: number;
  /** Refused at accept: MaxUnauthenticatedConnections is full and no connection counted there is idle. */
  refusedUnauthenticated: number;
  /** Idle unauthenticated connections closed to let a newer one in (per address or globally full). */
  evictedIdle: number;
  /** Closed because no request arrived within RequestHeaderTimeout of the accept. */
  timedOut: number;
}

/** What limitConnections tracks on one server, for tests and metrics. */
export interface ConnectionLimits {
  readonly counters: ConnectionCounters;
  /** Connections now that have not yet made an authorised request. */
  readonly unauthenticated: number;
  /** Open connections from this address now. */
  connectionsFrom(address: string): number;
  /** Unauthenticated connections from this address now. */
  unauthenticatedFrom(address: string): number;
}

/** The raw TCP socket under a request's socket (the TLS socket of HTTPS wraps it). */
function entryOf(socket: Socket): Entry | undefined {
  const tracked = socket as TrackedSocket;
  return tracked[ENTRY] ?? tracked._parent?.[ENTRY];
}

/**
 * Applies the connection limits when a TCP connection is accepted (before any byte is read, before a TLS handshake),
 * so that idle or slowly-sent connections cannot hold thousands of sockets nor lock others out:
 * - MaxClientsPerIP refuses a connection over the address's share (trusted proxies exempt; the HTTP edge limits their
 *   forwarded clients per request);
 * - MaxUnauthenticatedPerIP makes room for an address's new connection by closing its own oldest idle one (one with no
 *   request in progress);
 * - when MaxUnauthenticatedConnections is full, the oldest idle connection of the address holding the most is closed
 *   instead of the newcomer being refused, so one address or a few cannot lock out viewers or the operator;
 * - a connection that has sent nothing RequestHeaderTimeout after it was accepted is closed (Node's own headersTimeout
 *   only starts with the first byte: such a connection was held for ever), one without a whole request at twice that.
 */
export function limitConnections(server: Server, security: () => SecurityConfig): ConnectionLimits {
  const counters: ConnectionCounters = { refusedPerIp: 0, refusedUnauthenticated: 0, evictedIdle: 0, timedOut: 0 };
  const perAddress = new Map<string, number>();
  /** Unauthenticated connections by address, each set in order of arrival (oldest first). */
  const waiting = new Map<string, Set<Entry>>();
  let unauthenticated = 0;

  const settle = (entry: Entry): void => {
    if (!entry.unauthenticated) return;
    entry.unauthenticated = false;
    unauthenticated--;
    const set = waiting.get(entry.address);
    set?.delete(entry);
    if (set?.size === 0) waiting.delete(entry.address);
  };
  const oldestIdle = (set: Set<Entry> | undefined): Entry | undefined => {
    for (const entry of set ?? []) if (entry.requests === 0) return entry;
    return undefined;
  };
  const evict = (entry: Entry): void => {
    counters.evictedIdle++;
    settle(entry);
    entry.socket.destroy();
  };
  /** The oldest idle connection of the address holding the most unauthenticated ones that has an idle one. */
  const globalVictim = (): Entry | undefined => {
    const byHolding = [...waiting.values()].sort((a, b) => b.size - a.size);
    for (const set of byHolding) {
      const victim = oldestIdle(set);
      if (victim) return victim;
    }
    return undefined;
  };

  server.on('connection', (socket: TrackedSocket) => {
    const limits = security();
    const address = plainAddress(socket.remoteAddress);
    const trusted = limits.trustProxy.includes(address);
    const fromAddress = perAddress.get(address) ?? 0;
    if (limits.maxClientsPerIp > 0 && fromAddress >= limits.maxClientsPerIp && !trusted) {
      counters.refusedPerIp++;
      socket.destroy();
      return;
    }
    const own = waiting.get(address);
    if (limits.maxUnauthenticatedPerIp > 0 && !trusted && (own?.size ?? 0) >= limits.maxUnauthenticatedPerIp) {
      // With none idle, every one is in a request, which its own timers end: the newcomer is let in (the global cap
      // and MaxClientsPerIP still hold), so a client waiting on slowed-down answers is not made to reconnect in a loop.
      const victim = oldestIdle(own);
      if (victim) evict(victim);
    }
    if (unauthenticated >= limits.maxUnauthenticatedConnections) {
      const victim = globalVictim();
      if (!victim) {
        counters.refusedUnauthenticated++;
        socket.destroy();
        return;
      }
      evict(victim);
    }
    const entry: Entry = { socket, address, unauthenticated: true, requests: 0, deadline: undefined, authorised: () => settle(entry) };
    socket[ENTRY] = entry;
    perAddress.set(address, fromAddress + 1);
    unauthenticated++;
    const set = waiting.get(address) ?? new Set<Entry>();
    set.add(entry);
    waiting.set(address, set);
    // A connection that sent bytes is left to Node's own header timer first (which answers 408); the second deadline
    // bounds what that timer does not see, such as a TLS connection that goes silent after its handshake.
    const expire = (second: boolean) => (): void => {
      if (!second && socket.bytesRead > 0) {
        entry.deadline = setTimeout(expire(true), limits.requestHeaderTimeoutMs).unref();
        return;
      }
      counters.timedOut++;
      socket.destroy();
    };
    entry.deadline = setTimeout(expire(false), limits.requestHeaderTimeoutMs).unref();
    socket.once('close', () => {
      clearTimeout(entry.deadline);
      settle(entry);
      const left = (perAddress.get(address) ?? 1) - 1;
      if (left > 0) perAddress.set(address, left);
      else perAddress.delete(address);
    });
  });

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const entry = entryOf(req.socket);
    if (!entry) return;
    clearTimeout(entry.deadline);
    entry.deadline = undefined;
    entry.requests++;
    res.once('close', () => entry.requests--);
  });
  // An upgrade (a WebSocket) is a request that lasts as long as its connection: never idle, never timed out here.
  server.on('upgrade', (req: IncomingMessage) => {
    const entry = entryOf(req.socket);
    if (!entry) return;
    clearTimeout(entry.deadline);
    entry.deadline = undefined;
    entry.requests++;
  });

  return {
    counters,
    get unauthenticated() {
      return unauthenticated;
    },
    connectionsFrom: (address) => perAddress.get(address) ?? 0,
    unauthenticatedFrom: (address) => waiting.get(address)?.size ?? 0,
  };
}

/** Called once a request on this socket is authorised (or needs no authorisation): it no longer counts as unauthenticated. */
export function markAuthorised(socket: Socket): void {
  entryOf(socket)?.authorised();
}
