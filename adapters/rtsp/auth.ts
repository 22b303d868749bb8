import { createHash, randomBytes } from 'node:crypto';

/** A challenge from a WWW-Authenticate header. */
export type AuthChallenge =
  | { readonly scheme: 'basic'; readonly realm: string }
  | {
      readonly scheme: 'digest';
      readonly realm: string;
      readonly nonce: string;
      readonly opaque: string | undefined;
      readonly qop: string | undefined;
      readonly algorithm: string | undefined;
    };

/** The camera's user name and password; kept out of every message and log line. */
export interface Credentials {
  readonly username: string;
  readonly password: string;
}

const MAX_PARAMETERS = 16;

/** Splits `key=value, key="quoted, value"` pairs; names lower-cased. Ignores what it cannot read. */
function parseParameters(text: string): Map<string, string> {
  const parameters = new Map<string, string>();
  const pattern = /\s*([A-Za-z][\w-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))\s*,?/gy;
  let match: RegExpExecArray | null;
  while (parameters.size < MAX_PARAMETERS && (match = pattern.exec(text)) !== null) {
    parameters.set(match[1]!.toLowerCase(), match[2] !== undefined ? match[2].replace(/\\(.)/g, '$1') : match[3]!);
  }
  return parameters;
}

/** Parses one WWW-Authenticate value; undefined for schemes the client does not speak or challenges it cannot use. */
export function parseChallenge(header: string): AuthChallenge | undefined {
  const match = /^\s*(\w+)\s*(.*)$/s.exec(header);
  if (!match) return undefined;
  const scheme = match[1]!.toLowerCase();
  const parameters = parseParameters(match[2]!);
  const realm = parameters.get('realm') ?? '';
  if (scheme === 'basic') return { scheme, realm };
  if (scheme !== 'digest') return undefined;
  const nonce = parameters.get('nonce');
  const algorithm = parameters.get('algorithm');
  if (nonce === undefined || (algorithm !== undefined && algorithm.toUpperCase() !== 'MD5')) return undefined;
  const qopOptions = parameters.get('qop')?.split(',').map((option) => option.trim().toLowerCase());
  const qop = qopOptions === undefined ? undefined : qopOptions.includes('auth') ? 'auth' : 'unsupported';
  if (qop === 'unsupported') return undefined;
  return { scheme, realm, nonce, opaque: parameters.get('opaque'), qop, algorithm };
}

/** Picks the strongest challenge the client speaks from all WWW-Authenticate values: Digest over Basic. */
export function chooseChallenge(headers: readonly string[]): AuthChallenge | undefined {
  const challenges = headers.map(parseChallenge).filter((challenge) => challenge !== undefined);
  return challenges.find((challenge) => challenge.scheme === 'digest') ?? challenges[0];
}

function md5(text: string): string {
  return createHash('md5').update(text, 'utf8').digest('hex');
}

function quote(text: string): string {
  return `"${text.replace(/["\\]/g, '\\$&')}"`;
}

/** Answers a challenge for each request; Digest with qop=auth counts its nonce uses. */
export class Authenticator {
  private nonceCount = 0;

  constructor(
    private readonly challenge: AuthChallenge,
    private readonly credentials: Credentials,
    private readonly makeClientNonce: () => string = () => randomBytes(8).toString('hex'),
  ) {}

  /** The Authorization header value for one request. */
  authorization(method: string, uri: string): string {
    const { username, password } = this.credentials;
    if (this.challenge.scheme === 'basic') {
      return `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`;
    }
    const { realm, nonce, opaque, qop } = this.challenge;
    const ha1 = md5(`${username}:${realm}:${password}`);
    const ha2 = md5(`${method}:${uri}`);
    const fields = [`username=${quote(username)}`, `realm=${quote(realm)}`, `nonce=${quote(nonce)}`, `uri=${quote(uri)}`];
    if (qop === 'auth') {
      this.nonceCount++;
      const nc = this.nonceCount.toString(16).padStart(8, '0');
      const cnonce = this.makeClientNonce();
      fields.push(`response=${quote(md5(`${ha1}:${nonce}:${nc}:${cnonce}:auth:${ha2}`))}`, 'qop=auth', `nc=${nc}`, `cnonce=${quote(cnonce)}`);
    } else {
      fields.push(`response=${quote(md5(`${ha1}:${nonce}:${ha2}`))}`);
    }
    if (opaque !== undefined) fields.push(`opaque=${quote(opaque)}`);
    if (this.challenge.algorithm !== undefined) fields.push(`algorithm=${this.challenge.algorithm}`);
    return `Digest ${fields.join(', ')}`;
  }
}
