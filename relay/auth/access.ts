import { createHmac, randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RelayConfig, StreamConfig } from '../../conf/types.ts';
import type { SecurityConfig } from '../../conf/security.ts';
import type { Logger } from '../../lib/log.ts';
import type { ConnectionLimits } from '../http/connection-limits.ts';
import { FailedLogins } from './failures.ts';
import { verifyPassword } from '../../lib/password.ts';
import { VerificationGate } from './verify-gate.ts';
import { checkViewerToken, looksLikeViewerToken } from './viewer-token.ts';

/** What a viewer presents: a `?token=` value and/or an Authorization header, and where it comes from. */
export interface ViewerRequest {
  /** The `token` query parameter, if any. */
  readonly token?: string | undefined;
  /** `Bearer TOKEN`, `Basic` with the token as password (RTSP players), or an admin's own credentials. */
  readonly authorization?: string | undefined;
  /** The client address (after TrustProxy), for slowing down password guessing. */
  readonly address: string;
}

/** Allowed (and how), or refused with 403 (no or bad token), 410 (expired token) or 429 (credentials not checked now). */
export type ViewerDecision =
  | { readonly allowed: true; readonly via: 'public' | 'token' | 'admin' }
  | { readonly allowed: false; readonly status: 403 | 410 | 429; readonly reason: string };

/**
 * The answer to an admin request: allowed, no credentials sent, credentials that are wrong or malformed, or not
 * checked because too many checks are under way (from this address, or from everyone): try again shortly.
 */
export type AdminCheck = 'ok' | 'missing' | 'wrong' | 'busy';

const MAX_AUTHORIZATION_LENGTH = 4096;
/** Verified credentials skip scrypt for a minute: a status page refreshing every 3 s must not cost a hash each time. */
const VERIFIED_TTL_MS = 60_000;
const MAX_VERIFIED = 1000;
/** Shortest hold of an answer to credentials that were not checked (too many checks under way), ms. */
const BUSY_HOLD_MS = 1000;

/** Logs counts 1, 10, 100, ... so that a flood costs a handful of lines. */
const worthLogging = (count: number): boolean => Number.isInteger(Math.log10(count));

/** Admin and viewer authorisation for one relay, read from its current config (so SIGHUP applies new credentials). */
export class AccessControl {
  readonly failedLogins = new FailedLogins();
  /** Refused viewer requests since start (missing, bad or expired tokens), for /metrics. */
  viewerRefusals = 0;
  /** The connection limits of each listener (plain and HTTPS), registered by whoever starts them, for /metrics. */
  readonly connectionLimits: ConnectionLimits[] = [];
  /** Bounds the password hashing under way, so that a login flood cannot take the thread pool from file serving. */
  readonly verifications = new VerificationGate();
  private readonly verified = new Map<string, number>();
  /** Checks under way by credentials, so that the same credentials sent in parallel cost one hash. */
  private readonly checking = new Map<string, Promise<boolean | undefined>>();
  private verifiedFor: SecurityConfig | undefined;
  /** Keys the verified-credentials cache, so that what it holds cannot be brute-forced offline like a plain hash. */
  private readonly cacheKey = randomBytes(32);

  constructor(
    private readonly config: () => RelayConfig,
    private readonly log: Logger,
  ) {}

  /** False while no AdminUser or AdminToken is configured: the admin plane is then open. */
  get adminProtected(): boolean {
    const { adminUsers, adminTokens } = this.config().security;
    return adminUsers.length > 0 || adminTokens.length > 0;
  }

  /** Checks an Authorization header against AdminUser (Basic) and AdminToken (Bearer) lines. */
  async checkAdmin(authorization: string | undefined, address: string): Promise<AdminCheck> {
    if (!this.adminProtected) return 'ok';
    if (!authorization) return 'missing';
    const security = this.config().security;
    if (this.verifiedFor !== security) {
      this.verified.clear();
      this.verifiedFor = security;
    }
    const key = createHmac('sha256', this.cacheKey).update(authorization).digest('base64');
    if ((this.verified.get(key) ?? 0) > Date.now()) return 'ok';
    const delayed = async (): Promise<void> => {
      const delay = this.failedLogins.delayFor(address);
      if (delay > 0) await sleep(delay);
    };
    // The same credentials already being checked (parallel requests of one client, or one wrong password sent many
    // times at once) wait for that check's answer instead of hashing again.
    let pending = this.checking.get(key);
    const shared = pending !== undefined;
    if (!pending) {
      pending = this.verifications.run(address, () => this.verifyCredentials(security, authorization), delayed).finally(() => this.checking.delete(key));
      this.checking.set(key, pending);
    }
    const matches = await pending;
    if (matches === undefined) {
      // Not hashed; held at least a second (longer after failures), so that a client looping on refusals slows down.
      await sleep(Math.max(BUSY_HOLD_MS, this.failedLogins.delayFor(address)));
      return 'busy';
    }
    if (matches) {
      this.failedLogins.succeed(address);
      this.verified.set(key, Date.now() + VERIFIED_TTL_MS);
      if (this.verified.size > MAX_VERIFIED) this.verified.delete(this.verified.keys().next().value!);
      return 'ok';
    }
    if (shared) {
      await sleep(this.failedLogins.delayFor(address));
      return 'wrong';
    }
    const count = this.failedLogins.fail(address);
    if (worthLogging(count)) {
      this.log.warn(`admin login refused from ${address} (${count} failure(s); answers to it are delayed ${this.failedLogins.delayFor(address)} ms)`);
    }
    return 'wrong';
  }

  /**
   * Whether a viewer may watch `scope` (a stream name, or `vod/NAME`) with access `access`: public streams always,
   * token streams with a valid token for that very scope (query, Bearer, or Basic password) or an admin's credentials.
   */
  async authorizeViewer(scope: string, access: 'public' | 'token', request: ViewerRequest): Promise<ViewerDecision> {
    if (access === 'public') return { allowed: true, via: 'public' };
    const secret = this.config().security.viewerTokenSecret;
    const candidates = [request.token, ...tokensInAuthorization(request.authorization)].filter((token): token is string => !!token);
    let expired = false;
    for (const token of candidates) {
      const check = secret ? checkViewerToken(secret, scope, token) : 'bad';
      if (check === 'valid') return { allowed: true, via: 'token' };
      expired ||= check === 'expired';
    }
    if (request.authorization && this.adminProtected && !expired) {
      const admin = await this.checkAdmin(request.authorization, request.address);
      if (admin === 'ok') return { allowed: true, via: 'admin' };
      if (admin === 'busy') return { allowed: false, status: 429, reason: 'too many credential checks at once; try again shortly' };
    }
    this.viewerRefusals++;
    const decision: ViewerDecision = expired
      ? { allowed: false, status: 410, reason: 'the viewer token has expired' }
      : { allowed: false, status: 403, reason: candidates.length > 0 ? 'the viewer token is not valid for this stream' : 'this stream needs a viewer token' };
    if (worthLogging(this.viewerRefusals)) this.log.info(`viewer refused (${decision.status}) for ${scope} from ${request.address}; ${this.viewerRefusals} refusal(s) since start`);
    return decision;
  }

  private async verifyCredentials(security: SecurityConfig, authorization: string): Promise<boolean> {
    if (authorization.length > MAX_AUTHORIZATION_LENGTH) return false;
    const [scheme = '', value = ''] = authorization.trim().split(/\s+/, 2);
    if (scheme.toLowerCase() === 'bearer') {
      let ok = false;
      // Every configured token is tried, so the time taken does not tell which one came close.
      for (const hash of security.adminTokens) ok = (await verifyPassword(value, hash)) || ok;
      return ok;
    }
    if (scheme.toLowerCase() !== 'basic') return false;
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return false;
    const user = security.adminUsers.find((candidate) => candidate.name === decoded.slice(0, colon));
    // An unknown user costs one hash too, so that the answer's timing does not reveal which names exist.
    const hash = (user ?? security.adminUsers[0])?.hash;
    if (!hash) return false;
    const matches = await verifyPassword(decoded.slice(colon + 1), hash);
    return matches && user !== undefined;
  }
}

/** Viewer tokens an Authorization header may carry: `Bearer TOKEN`, or `Basic` whose password is the token. */
function tokensInAuthorization(authorization: string | undefined): string[] {
  if (!authorization || authorization.length > MAX_AUTHORIZATION_LENGTH) return [];
  const [scheme = '', value = ''] = authorization.trim().split(/\s+/, 2);
  if (scheme.toLowerCase() === 'bearer' && looksLikeViewerToken(value)) return [value];
  if (scheme.toLowerCase() === 'basic') {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const password = decoded.slice(decoded.indexOf(':') + 1);
    if (decoded.includes(':') && looksLikeViewerToken(password)) return [password];
  }
  return [];
}

/** The relay as the edges' access checks see it (the HTTP gate, the RTSP server, /metrics). */
export interface AccessHost {
  readonly config: RelayConfig;
  /** The relay's one AccessControl, built with it and shared by every edge. */
  readonly access: AccessControl;
  /** Streams started at run time (the VOD API): protected by the same rule as configured ones. */
  startedStreams?(): readonly StreamConfig[];
}

/**
 * Whether a viewer may watch the stream `streamName`, for edges other than HTTP (the RTSP server):
 * `await authorizeViewer(relay, 'test.sdp', { token: url.searchParams.get('token') ?? undefined, authorization, address })`,
 * then answer 403 or 410 (RTSP has both statuses) when `allowed` is false.
 */
export function authorizeViewer(
  relay: AccessHost,
  streamName: string,
  request: ViewerRequest,
): Promise<ViewerDecision> {
  const stream = [...relay.config.streams, ...(relay.startedStreams?.() ?? [])].find((candidate) => candidate.name === streamName);
  return relay.access.authorizeViewer(stream?.name ?? streamName, stream?.access ?? relay.config.security.defaultAccess, request);
}
