import { accessSync, constants, statSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import type { DirectiveSpec } from './directives.ts';
import type { DirectiveValues, Problems } from './parse.ts';
import { integer, seconds, ValueError, type ValueParser } from './values.ts';

/** Where state changes (camera down, back, recording stopped ...) are sent, and how hard the relay tries. */
export interface EventsConfig {
  /** Webhook URLs (OnEvent), each sent every event as a JSON POST. */
  readonly urls: readonly string[];
  /** HMAC-SHA256 key of the X-Relay-Signature header (OnEventSecret); undefined sends no signature. */
  readonly secret: string | undefined;
  /** OnEventExec: a program and its arguments, run without a shell for each event. */
  readonly exec: readonly string[] | undefined;
  /** One attempt (a POST or a command run) gives up after this long, ms. */
  readonly timeoutMs: number;
  /** Further attempts after a failed one, before the delivery counts as failed. */
  readonly retries: number;
  /** Events sent per minute at most; the rest are counted and reported with the next one sent. */
  readonly ratePerMinute: number;
  /** A camera still down after this long is reported `camera.failed`, ms. */
  readonly failedAfterMs: number;
}

const MAX_URL_LENGTH = 2048;
/** Shortest OnEventSecret accepted, as for ViewerTokenSecret: 32 characters. */
const MIN_EVENT_SECRET_LENGTH = 32;

const webhookUrl: ValueParser<string> = (args) => {
  if (args.length !== 1) return new ValueError(`takes exactly one URL, got ${args.length} values`);
  const text = args[0]!;
  if (text.length > MAX_URL_LENGTH) return new ValueError(`is ${text.length} characters long (at most ${MAX_URL_LENGTH})`);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return new ValueError(`"${text.slice(0, 80)}" is not a URL (e.g. https://alerts.example.com/relay)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return new ValueError(`${url.protocol}// is not allowed: webhooks are http:// or https:// URLs`);
  // Credentials in the URL would show on /stat.html; the receiver checks OnEventSecret's signature instead.
  if (url.username || url.password) return new ValueError('the URL may not carry user:password@ (use OnEventSecret and check X-Relay-Signature)');
  return url.toString();
};

const eventSecret: ValueParser<string> = (args) => {
  if (args.length !== 1) return new ValueError(`takes exactly one value, got ${args.length}`);
  const value = args[0]!;
  if (value.length < MIN_EVENT_SECRET_LENGTH) return new ValueError(`is ${value.length} characters; use at least ${MIN_EVENT_SECRET_LENGTH} random ones (e.g. openssl rand -hex 32)`);
  return value;
};

const command: ValueParser<string[]> = (args) => {
  if (args.length === 0) return new ValueError('takes a program (absolute path) and its arguments');
  if (args.length > 64) return new ValueError(`takes at most 64 values, got ${args.length}`);
  const program = args[0]!;
  if (!isAbsolute(program)) return new ValueError(`"${program.slice(0, 80)}" is not an absolute path (the command runs without a shell and without PATH lookup)`);
  try {
    if (!statSync(program).isFile()) return new ValueError(`${program} is not a file`);
    accessSync(program, constants.X_OK);
  } catch (error) {
    return new ValueError(`${program} cannot be run (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  return [...args];
};

/** The global directives of this file, merged into DIRECTIVES.global. */
export const EVENT_DIRECTIVES: Record<string, DirectiveSpec> = {
  OnEvent: { parse: webhookUrl, repeatable: true },
  OnEventSecret: { parse: eventSecret },
  OnEventExec: { parse: command },
  OnEventTimeout: { parse: seconds(0.1, 60), default: 5_000 },
  OnEventRetries: { parse: integer(0, 10), default: 3 },
  OnEventRateLimit: { parse: integer(1, 10_000), default: 30 },
  OnEventFailedAfter: { parse: seconds(1, 86_400), default: 60_000 },
};

/** The events section; OnEventSecret without a webhook to sign is an error at its line. */
export function buildEvents(global: DirectiveValues, problems: Problems): EventsConfig {
  const get = <T>(name: string): T => (global.get(name)?.value ?? EVENT_DIRECTIVES[name]!.default) as T;
  const urls = (get<Array<{ value: string }> | undefined>('OnEvent') ?? []).map(({ value }) => value);
  const secret = get<string | undefined>('OnEventSecret');
  if (secret !== undefined && urls.length === 0) problems.error(global.get('OnEventSecret')!.line, 'OnEventSecret: signs webhooks, but no OnEvent URL is set');
  return {
    urls,
    secret,
    exec: get<string[] | undefined>('OnEventExec'),
    timeoutMs: get('OnEventTimeout'),
    retries: get('OnEventRetries'),
    ratePerMinute: get('OnEventRateLimit'),
    failedAfterMs: get('OnEventFailedAfter'),
  };
}
