import { existsSync } from 'node:fs';
import { isIP } from 'node:net';
import { parsePasswordHash, type PasswordHash } from '../lib/password.ts';
import type { DirectiveSpec } from './directives.ts';
import type { DirectiveValues, Problems } from './parse.ts';
import { boolean, integer, oneOf, seconds, text, ValueError, type ValueParser } from './values.ts';

/** Who may watch a stream: anyone, or holders of a signed viewer token. */
export type Access = 'public' | 'token';

/** An admin login: a name and the scrypt hash of its password. */
export interface AdminUser {
  readonly name: string;
  readonly hash: PasswordHash;
}

/** Authentication, TLS and connection limits; everything open and plain by default. */
export interface SecurityConfig {
  /** Admin plane logins (HTTP Basic); with no users and no tokens the admin plane is open. */
  readonly adminUsers: readonly AdminUser[];
  /** Hashes of bearer tokens for scripts and Prometheus. */
  readonly adminTokens: readonly PasswordHash[];
  /** False leaves /metrics open even when the admin plane is protected. */
  readonly metricsAuth: boolean;
  /** HMAC key of viewer tokens; required by any `Access token`. */
  readonly viewerTokenSecret: string | undefined;
  /** Access of streams that do not set their own. */
  readonly defaultAccess: Access;
  /** 0: no HTTPS listener. */
  readonly httpsPort: number;
  readonly certificateFile: string | undefined;
  readonly keyFile: string | undefined;
  /** Plain-HTTP requests are redirected to the HTTPS port. */
  readonly redirectToHttps: boolean;
  /** Connections (and, behind a trusted proxy, requests) at once from one client address; 0 = no limit. */
  readonly maxClientsPerIp: number;
  /** Connections that have not yet made an authorised request, all addresses together. */
  readonly maxUnauthenticatedConnections: number;
  /** Unauthenticated connections from one address; a new one past this closes the address's oldest idle one (0: no limit). */
  readonly maxUnauthenticatedPerIp: number;
  /** A request whose headers are not complete after this long is closed, ms. */
  readonly requestHeaderTimeoutMs: number;
  /** Peers whose X-Forwarded-For is believed. */
  readonly trustProxy: readonly string[];
  /** Origins (scheme://host[:port], lower case) whose pages may open /NAME.ws besides the relay's own; `*`: any. */
  readonly webSocketAllowedOrigins: readonly string[];
}

/** Shortest ViewerTokenSecret accepted: 32 characters, so that the HMAC key is not guessable. */
export const MIN_SECRET_LENGTH = 32;

const hash: ValueParser<PasswordHash> = (args) => {
  if (args.length !== 1) return new ValueError(`takes exactly one hash, got ${args.length} values`);
  // The value is never echoed: it may be a plain-text password typed in by mistake.
  return parsePasswordHash(args[0]!) ?? new ValueError('is not a hash made by `npx relay --hash-password` (plain-text passwords are not accepted)');
};

const adminUser: ValueParser<AdminUser> = (args) => {
  if (args.length !== 2) return new ValueError(`takes a name and a hash (made by \`npx relay --hash-password\`), got ${args.length} values`);
  if (!/^[A-Za-z0-9._@-]{1,64}$/.test(args[0]!)) return new ValueError('the name uses letters, digits, ".", "_", "@" and "-" (at most 64)');
  const parsed = hash([args[1]!]);
  return parsed instanceof ValueError ? new ValueError(`the second value ${parsed.message}`) : { name: args[0]!, hash: parsed };
};

const secret: ValueParser<string> = (args) => {
  if (args.length !== 1) return new ValueError(`takes exactly one value, got ${args.length}`);
  const value = args[0]!;
  if (value.length < MIN_SECRET_LENGTH) return new ValueError(`is ${value.length} characters; use at least ${MIN_SECRET_LENGTH} random ones (e.g. openssl rand -hex 32)`);
  return value;
};

const addresses: ValueParser<string[]> = (args) => {
  if (args.length === 0) return new ValueError('takes one or more IP addresses');
  const bad = args.find((address) => isIP(address) === 0);
  return bad !== undefined ? new ValueError(`"${bad.slice(0, 64)}" is not an IP address`) : [...args];
};

/** `*` or origins as browsers send them (scheme://host[:port], no path): a page on one of them may open /NAME.ws. */
const origins: ValueParser<string[]> = (args) => {
  if (args.length === 0) return new ValueError('takes one or more origins (e.g. https://example.com) or *');
  const values: string[] = [];
  for (const arg of args) {
    if (arg === '*') {
      values.push(arg);
      continue;
    }
    let url: URL | undefined;
    try {
      url = new URL(arg);
    } catch {
      url = undefined;
    }
    if (!url || !/^https?:$/.test(url.protocol) || url.origin.toLowerCase() !== arg.toLowerCase().replace(/\/$/, '')) {
      return new ValueError(`"${arg.slice(0, 64)}" is not an origin (scheme://host[:port], e.g. https://example.com) nor *`);
    }
    values.push(url.origin.toLowerCase());
  }
  return values;
};

/** The global directives of this file, merged into DIRECTIVES.global. */
export const SECURITY_DIRECTIVES: Record<string, DirectiveSpec> = {
  AdminUser: { parse: adminUser, repeatable: true },
  AdminToken: { parse: hash, repeatable: true },
  MetricsAuth: { parse: boolean, default: true },
  ViewerTokenSecret: { parse: secret },
  DefaultAccess: { parse: oneOf(['public', 'token'] as const), default: 'public' },
  HTTPSPort: { parse: integer(0, 65535), default: 0 },
  SSLCertificateFile: { parse: text },
  SSLCertificateKeyFile: { parse: text },
  RedirectToHTTPS: { parse: boolean, default: false },
  MaxClientsPerIP: { parse: integer(0, 1_000_000), default: 0 },
  MaxUnauthenticatedConnections: { parse: integer(1, 1_000_000), default: 1000 },
  MaxUnauthenticatedPerIP: { parse: integer(0, 1_000_000), default: 100 },
  RequestHeaderTimeout: { parse: seconds(1, 300), default: 10_000 },
  TrustProxy: { parse: addresses, repeatable: true },
  WebSocketAllowedOrigins: { parse: origins, repeatable: true },
};

type Lines<T> = Array<{ value: T; line: number }>;

/** Builds the security section and checks what spans directives (TLS files, a secret for token access). */
export function buildSecurity(global: DirectiveValues, problems: Problems): SecurityConfig {
  const get = <T>(name: string): T => (global.get(name)?.value ?? SECURITY_DIRECTIVES[name]!.default) as T;
  const lineOf = (name: string): number => global.get(name)?.line ?? 0;
  const users = get<Lines<AdminUser> | undefined>('AdminUser') ?? [];
  const seen = new Set<string>();
  for (const { value, line } of users) {
    if (seen.has(value.name)) problems.error(line, `AdminUser: the user ${value.name} is given twice`);
    seen.add(value.name);
  }
  const httpsPort = get<number>('HTTPSPort');
  const certificateFile = get<string | undefined>('SSLCertificateFile');
  const keyFile = get<string | undefined>('SSLCertificateKeyFile');
  if (httpsPort > 0) {
    for (const [name, file] of [['SSLCertificateFile', certificateFile], ['SSLCertificateKeyFile', keyFile]] as const) {
      if (file === undefined) problems.error(lineOf('HTTPSPort'), `HTTPSPort: needs ${name}`);
      else if (!existsSync(file)) problems.error(lineOf(name), `${name}: ${file} does not exist`);
    }
  }
  const redirectToHttps = get<boolean>('RedirectToHTTPS');
  if (redirectToHttps && httpsPort === 0) problems.error(lineOf('RedirectToHTTPS'), 'RedirectToHTTPS: needs HTTPSPort');
  const viewerTokenSecret = get<string | undefined>('ViewerTokenSecret');
  const defaultAccess = get<Access>('DefaultAccess');
  if (defaultAccess === 'token' && !viewerTokenSecret) problems.error(lineOf('DefaultAccess'), 'DefaultAccess: token needs ViewerTokenSecret');
  return {
    adminUsers: users.map(({ value }) => value),
    adminTokens: (get<Lines<PasswordHash> | undefined>('AdminToken') ?? []).map(({ value }) => value),
    metricsAuth: get('MetricsAuth'),
    viewerTokenSecret,
    defaultAccess,
    httpsPort,
    certificateFile,
    keyFile,
    redirectToHttps,
    maxClientsPerIp: get('MaxClientsPerIP'),
    maxUnauthenticatedConnections: get('MaxUnauthenticatedConnections'),
    maxUnauthenticatedPerIp: get('MaxUnauthenticatedPerIP'),
    requestHeaderTimeoutMs: get('RequestHeaderTimeout'),
    trustProxy: (get<Lines<string[]> | undefined>('TrustProxy') ?? []).flatMap(({ value }) => value),
    webSocketAllowedOrigins: (get<Lines<string[]> | undefined>('WebSocketAllowedOrigins') ?? []).flatMap(({ value }) => value),
  };
}

/** A stream's own Access, else the default; `Access token` without a secret is an error at its line. */
export function streamAccess(values: DirectiveValues, security: SecurityConfig, problems: Problems): Access {
  const own = values.get('Access') as { value: Access; line: number } | undefined;
  if (own?.value === 'token' && !security.viewerTokenSecret) problems.error(own.line, 'Access: token needs ViewerTokenSecret in the global section');
  return own?.value ?? security.defaultAccess;
}
