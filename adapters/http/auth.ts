import { createHash, randomBytes } from 'node:crypto';

/** The parameters of a `WWW-Authenticate: Digest ...` challenge that the response computation uses. */
export interface DigestChallenge {
  readonly realm: string;
  readonly nonce: string;
  readonly opaque: string | undefined;
  /** As the server spelled it (MD5, MD5-sess, SHA-256, SHA-256-sess); absent means MD5. */
  readonly algorithm: string | undefined;
  /** The qop options the server offered; empty for an RFC 2069 challenge. */
  readonly qop: readonly string[];
  readonly stale: boolean;
}

/** What a 401 response offers: Basic, Digest, or neither. */
export interface Challenges {
  readonly basic: boolean;
  readonly digest: DigestChallenge | undefined;
}

/** Auth parameters: `name=token` or `name="quoted \" string"`, separated by commas. */
const PARAM = /\s*,?\s*([A-Za-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s"]*))/y;

/** Parses WWW-Authenticate header values (one header, or several, or several challenges joined by commas). */
export function parseChallenges(header: string | readonly string[] | undefined): Challenges {
  const text = Array.isArray(header) ? header.join(', ') : (header as string | undefined) ?? '';
  const basic = /(?:^|,)\s*basic(?:\s|,|$)/i.test(text);
  const start = /(?:^|,)\s*digest\s+/i.exec(text);
  if (!start) return { basic, digest: undefined };
  const params = new Map<string, string>();
  PARAM.lastIndex = start.index + start[0].length;
  for (let match = PARAM.exec(text); match; match = PARAM.exec(text)) {
    const name = match[1]!.toLowerCase();
    const value = match[2] !== undefined ? match[2].replace(/\\(.)/g, '$1') : match[3] ?? '';
    if (!params.has(name)) params.set(name, value);
  }
  const nonce = params.get('nonce');
  if (nonce === undefined) return { basic, digest: undefined };
  const digest: DigestChallenge = {
    realm: params.get('realm') ?? '',
    nonce,
    opaque: params.get('opaque'),
    algorithm: params.get('algorithm'),
    qop: (params.get('qop') ?? '').split(',').map((option) => option.trim().toLowerCase()).filter(Boolean),
    stale: (params.get('stale') ?? '').toLowerCase() === 'true',
  };
  return { basic, digest };
}

/** The Authorization header value for HTTP Basic. */
export function basicAuthorization(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`;
}

/** Thrown when a Digest challenge asks for something this client cannot answer (auth-int only, unknown algorithm). */
export class UnsupportedDigestError extends Error {
  override readonly name = 'UnsupportedDigestError';
}

const HASHES: Record<string, string> = { 'md5': 'md5', 'md5-sess': 'md5', 'sha-256': 'sha256', 'sha-256-sess': 'sha256' };

function quote(value: string): string {
  return `"${value.replace(/["\\]/g, '\\$&')}"`;
}

/**
 * Answers one Digest challenge (RFC 7616, and RFC 2617/2069 servers) request after request: the nonce count
 * goes up by one each time, so a polling client keeps using the same nonce without a new 401 per request.
 */
export class DigestSession {
  private nonceCount = 0;
  private readonly hashName: string;
  private readonly qop: 'auth' | undefined;

  constructor(
    private readonly username: string,
    private readonly password: string,
    private readonly challenge: DigestChallenge,
    private readonly makeCnonce: () => string = () => randomBytes(16).toString('hex'),
  ) {
    const algorithm = (challenge.algorithm ?? 'MD5').toLowerCase();
    const hashName = HASHES[algorithm];
    if (!hashName) throw new UnsupportedDigestError(`Digest algorithm ${challenge.algorithm?.slice(0, 20)} is not supported`);
    this.hashName = hashName;
    if (challenge.qop.length > 0 && !challenge.qop.includes('auth')) {
      throw new UnsupportedDigestError(`Digest qop ${challenge.qop.join(',').slice(0, 40)} is not supported`);
    }
    this.qop = challenge.qop.length > 0 ? 'auth' : undefined;
  }

  /** The Authorization header value for one request; each call uses the next nonce count. */
  authorization(method: string, uri: string): string {
    const { realm, nonce, opaque, algorithm } = this.challenge;
    const hash = (text: string): string => createHash(this.hashName).update(text, 'utf8').digest('hex');
    const cnonce = this.makeCnonce();
    this.nonceCount++;
    const nc = this.nonceCount.toString(16).padStart(8, '0');
    let ha1 = hash(`${this.username}:${realm}:${this.password}`);
    if ((algorithm ?? '').toLowerCase().endsWith('-sess')) ha1 = hash(`${ha1}:${nonce}:${cnonce}`);
    const ha2 = hash(`${method}:${uri}`);
    const response = this.qop
      ? hash(`${ha1}:${nonce}:${nc}:${cnonce}:${this.qop}:${ha2}`)
      : hash(`${ha1}:${nonce}:${ha2}`);
    const parts = [
      `username=${quote(this.username)}`,
      `realm=${quote(realm)}`,
      `nonce=${quote(nonce)}`,
      `uri=${quote(uri)}`,
    ];
    if (algorithm !== undefined) parts.push(`algorithm=${algorithm}`);
    parts.push(`response=${quote(response)}`);
    if (this.qop) parts.push(`qop=${this.qop}`, `nc=${nc}`, `cnonce=${quote(cnonce)}`);
    if (opaque !== undefined) parts.push(`opaque=${quote(opaque)}`);
    return `Digest ${parts.join(', ')}`;
  }
}
