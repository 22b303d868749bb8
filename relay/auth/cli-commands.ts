import type { Readable, Writable } from 'node:stream';
import { classifyPath } from './surfaces.ts';
import { hashPassword } from '../../lib/password.ts';
import { signViewerToken } from './viewer-token.ts';
import type { RelayConfig } from '../../conf/types.ts';

/** Longest password accepted; verifyPassword refuses longer ones. */
const MAX_PASSWORD_LENGTH = 1024;

/** Reads one line from a pipe (`echo -n secret | relay --hash-password`), at most a few KiB. */
async function readLine(input: Readable): Promise<string> {
  let text = '';
  for await (const chunk of input) {
    text += String(chunk);
    if (text.includes('\n') || text.length > MAX_PASSWORD_LENGTH + 2) break;
  }
  return text.split(/\r?\n/)[0]!;
}

/** Reads a line from a terminal without echoing it. */
function readHidden(input: Readable & { setRawMode?: (raw: boolean) => void }, prompt: string, output: Writable): Promise<string> {
  output.write(prompt);
  input.setRawMode?.(true);
  input.resume();
  return new Promise((resolve, reject) => {
    let text = '';
    const onData = (chunk: Buffer): void => {
      for (const char of chunk.toString('utf8')) {
        if (char === '\r' || char === '\n') return finish(() => resolve(text));
        if (char === '\u0003') return finish(() => reject(new Error('cancelled')));
        if (char === '\u007f' || char === '\b') text = text.slice(0, -1);
        else text += char;
      }
    };
    const finish = (settle: () => void): void => {
      input.off('data', onData);
      input.setRawMode?.(false);
      input.pause();
      output.write('\n');
      settle();
    };
    input.on('data', onData);
  });
}

/**
 * `relay --hash-password`: reads a password from stdin (a pipe) or a prompt (a terminal, asked twice, not echoed),
 * never from the command line where `ps` and shell history would keep it, and prints its scrypt hash for an
 * `AdminUser NAME HASH` or `AdminToken HASH` line.
 */
export async function hashPasswordCommand(
  input: Readable & { isTTY?: boolean; setRawMode?: (raw: boolean) => void },
  output: Writable,
  errors: Writable,
): Promise<number> {
  let password: string;
  if (input.isTTY) {
    password = await readHidden(input, 'password: ', errors);
    if ((await readHidden(input, 'again: ', errors)) !== password) {
      errors.write('relay: the passwords differ\n');
      return 1;
    }
  } else password = await readLine(input);
  if (password.length === 0 || password.length > MAX_PASSWORD_LENGTH) {
    errors.write(`relay: the password must be 1 to ${MAX_PASSWORD_LENGTH} characters\n`);
    return 1;
  }
  output.write(`${await hashPassword(password)}\n`);
  return 0;
}

/** Longest validity --expires accepts: a year. */
const MAX_EXPIRES_SECONDS = 366 * 86_400;

/**
 * `relay --sign-url URL --expires SECONDS -c FILE`: the URL with a `token` parameter that lets it play until then.
 * The URL may be absolute or a path; it must name a viewer surface (a stream, its HLS segments, its player page).
 */
export function signUrl(config: RelayConfig, url: string, expiresInText: string, nowMs = Date.now()): string {
  const secret = config.security.viewerTokenSecret;
  if (!secret) throw new Error(`${config.file} has no ViewerTokenSecret`);
  if (!/^\d{1,9}$/.test(expiresInText) || Number(expiresInText) < 1 || Number(expiresInText) > MAX_EXPIRES_SECONDS) {
    throw new Error(`--expires takes seconds, 1 to ${MAX_EXPIRES_SECONDS}`);
  }
  let parsed: URL;
  try {
    parsed = new URL(url, 'http://relay.invalid');
  } catch {
    throw new Error('--sign-url takes a URL or a path such as /test.flv');
  }
  const surface = classifyPath(config, parsed.pathname);
  if (surface.plane !== 'viewer') throw new Error(`${parsed.pathname} is not a stream of ${config.file}`);
  parsed.searchParams.set('token', signViewerToken(secret, surface.scope, Math.floor(nowMs / 1000) + Number(expiresInText)));
  return parsed.origin === 'http://relay.invalid' ? `${parsed.pathname}${parsed.search}` : parsed.toString();
}
