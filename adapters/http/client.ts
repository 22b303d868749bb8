import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import type { CameraConfig } from '../../conf/types.ts';
import { AdapterError } from '../errors.ts';
import { DigestSession, UnsupportedDigestError, basicAuthorization, parseChallenges } from './auth.ts';
import { livescopeError, printable } from './livescope.ts';

const MAX_REDIRECTS = 5;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
/** Error bodies up to this size are read to the end so that the keep-alive connection can be reused. */
const DRAINABLE_BYTES = 64 * 1024;

/** Node's socket error codes that mean the camera could not be reached at all. */
const CONNECT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN', 'EADDRNOTAVAIL']);

/**
 * A GET client for one camera: a keep-alive agent per protocol with one socket, so successive requests
 * (snapshot polls, an auth retry) share one upstream connection. It answers Basic and Digest challenges,
 * follows redirects and turns every failure into an AdapterError with a message free of credentials.
 */
export class CameraHttpClient {
  private readonly agents: { 'http:': http.Agent; 'https:': https.Agent };
  private readonly origin: string;
  private digest: DigestSession | undefined;
  private basic = false;

  constructor(
    private readonly camera: CameraConfig,
    private readonly signal: AbortSignal,
  ) {
    this.origin = new URL(camera.source).origin;
    this.agents = {
      'http:': new http.Agent({ keepAlive: true, maxSockets: 1 }),
      // Most IP cameras present self-signed certificates: TLSVerify no accepts them (then the camera is not authenticated).
      'https:': new https.Agent({ keepAlive: true, maxSockets: 1, rejectUnauthorized: camera.tlsVerify }),
    };
  }

  /** GETs `url`, following redirects and answering one auth challenge; resolves with a 2xx response. */
  async get(url: URL): Promise<IncomingMessage> {
    let current = url;
    let redirects = 0;
    let answeredChallenge = false;
    for (;;) {
      const sameOrigin = current.origin === this.origin;
      const response = await this.send(current, sameOrigin ? this.authorization(current) : undefined);
      const status = response.statusCode ?? 0;
      if (status === 401 && sameOrigin && !answeredChallenge && this.learnChallenge(response)) {
        discard(response);
        answeredChallenge = true;
        continue;
      }
      if (REDIRECT_STATUSES.has(status)) {
        discard(response);
        if (++redirects > MAX_REDIRECTS) throw new AdapterError('UPSTREAM_STATUS', `more than ${MAX_REDIRECTS} redirects`);
        current = redirectTarget(response, current);
        answeredChallenge = false;
        continue;
      }
      const livescope = livescopeError(response.headers);
      const failure = livescope ?? statusError(response, this.camera.username !== undefined);
      if (failure) {
        discard(response);
        throw failure;
      }
      return response;
    }
  }

  /** Closes every socket the agents hold. */
  close(): void {
    for (const agent of Object.values(this.agents)) agent.destroy();
  }

  private authorization(url: URL): string | undefined {
    const { username, password } = this.camera;
    if (username === undefined) return undefined;
    if (this.digest) return this.digest.authorization('GET', url.pathname + url.search);
    if (this.basic) return basicAuthorization(username, password ?? '');
    return undefined;
  }

  /** Reads a 401's challenge; returns true if a retry with credentials is worth making. */
  private learnChallenge(response: IncomingMessage): boolean {
    const { username, password } = this.camera;
    if (username === undefined) return false;
    const challenges = parseChallenges(response.headers['www-authenticate']);
    if (challenges.digest) {
      try {
        this.digest = new DigestSession(username, password ?? '', challenges.digest);
      } catch (error) {
        if (error instanceof UnsupportedDigestError) throw new AdapterError('AUTH', error.message);
        throw error;
      }
      return true;
    }
    if (challenges.basic && !this.basic) {
      this.basic = true;
      return true;
    }
    return false;
  }

  /** One request: resolves when the response headers arrive, within connectTimeoutMs. */
  private send(url: URL, authorization: string | undefined): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      if (this.signal.aborted) return reject(aborted());
      const headers: Record<string, string> = { 'User-Agent': 'camera-relay', Accept: '*/*' };
      if (authorization) headers.Authorization = authorization;
      const protocol = url.protocol === 'https:' ? 'https:' : 'http:';
      const request = (protocol === 'https:' ? https : http).request(url, { agent: this.agents[protocol], headers });
      const timer = setTimeout(() => {
        request.destroy(new AdapterError('TIMEOUT', `no response from the camera within ${this.camera.connectTimeoutMs} ms`));
      }, this.camera.connectTimeoutMs);
      const onAbort = (): void => void request.destroy(aborted());
      this.signal.addEventListener('abort', onAbort, { once: true });
      const settle = (): void => {
        clearTimeout(timer);
        this.signal.removeEventListener('abort', onAbort);
      };
      request.on('response', (response) => {
        settle();
        resolve(response);
      });
      request.on('error', (error) => {
        settle();
        reject(toAdapterError(error));
      });
      request.end();
    });
  }
}

/** The error a request rejects with when the sink's signal aborted it; run() resolves instead of reporting it. */
export function aborted(): AdapterError {
  return new AdapterError('CLOSED', 'stopped');
}

/** Maps a socket or TLS error to an AdapterError; the messages name no credentials (URLs never carry them). */
export function toAdapterError(error: unknown): AdapterError {
  if (error instanceof AdapterError) return error;
  const code = (error as NodeJS.ErrnoException).code ?? '';
  const message = (error as Error).message ?? String(error);
  if (CONNECT_CODES.has(code)) return new AdapterError('CONNECT', `cannot connect to the camera: ${code}`, { cause: error });
  if (code === 'ECONNRESET' || code === 'EPIPE' || message === 'socket hang up') {
    return new AdapterError('CLOSED', `the camera closed the connection: ${code || message}`, { cause: error });
  }
  if (code === 'ETIMEDOUT') return new AdapterError('TIMEOUT', 'connecting to the camera timed out', { cause: error });
  return new AdapterError('CONNECT', `HTTP request failed: ${printable(code || message)}`, { cause: error });
}

function statusError(response: IncomingMessage, hasCredentials: boolean): AdapterError | undefined {
  const status = response.statusCode ?? 0;
  if (status >= 200 && status < 300) return undefined;
  const text = `HTTP ${status} ${printable(response.statusMessage ?? '')}`.trim();
  if (status === 401) return new AdapterError('AUTH', hasCredentials ? `${text}: credentials refused` : `${text}: no credentials configured`);
  if (status === 403) return new AdapterError('AUTH', text);
  return new AdapterError('UPSTREAM_STATUS', text);
}

function redirectTarget(response: IncomingMessage, from: URL): URL {
  const location = response.headers.location;
  if (!location) throw new AdapterError('UPSTREAM_STATUS', `HTTP ${response.statusCode} redirect without a Location`);
  let target: URL;
  try {
    target = new URL(location, from);
  } catch {
    throw new AdapterError('PROTOCOL', 'redirect to an invalid URL');
  }
  if (target.protocol !== 'http:' && target.protocol !== 'https:') {
    throw new AdapterError('PROTOCOL', `redirect to an unsupported scheme ${printable(target.protocol, 20)}`);
  }
  target.username = ''; // credentials come from the config only, never from a Location header
  target.password = '';
  return target;
}

/** Throws a response away: small bodies are drained so the keep-alive socket stays usable, others close it. */
function discard(response: IncomingMessage): void {
  const length = Number(response.headers['content-length']);
  if (Number.isFinite(length) && length <= DRAINABLE_BYTES) response.resume();
  else response.destroy();
}
