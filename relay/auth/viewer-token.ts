import { createHmac, timingSafeEqual } from 'node:crypto';

/** The outcome of checking a viewer token: valid, validly signed but past its expiry, or anything else. */
export type TokenCheck = 'valid' | 'expired' | 'bad';

/** `EXPIRY.SIGNATURE`: expiry in Unix seconds, signature an unpadded base64url HMAC-SHA256 (43 characters). */
const TOKEN_PATTERN = /^(\d{1,11})\.([A-Za-z0-9_-]{43})$/;

function signature(secret: string, scope: string, expiresAt: number): Buffer {
  // The newline cannot occur in a scope (stream names are [A-Za-z0-9._-]), so scope and expiry cannot be re-split.
  return createHmac('sha256', secret).update(`${scope}\n${expiresAt}`).digest();
}

/** A token that grants `scope` (a stream name, or `vod/NAME`) until `expiresAt` (Unix seconds). */
export function signViewerToken(secret: string, scope: string, expiresAt: number): string {
  return `${expiresAt}.${signature(secret, scope, expiresAt).toString('base64url')}`;
}

/**
 * Checks a token for `scope`. The signature is checked before the expiry, so an edited expiry or a token of another
 * stream is 'bad', never 'expired'; the comparison is between two 32-byte digests, in constant time.
 */
export function checkViewerToken(secret: string, scope: string, token: string, nowMs = Date.now()): TokenCheck {
  const match = TOKEN_PATTERN.exec(token);
  if (!match) return 'bad';
  const expiresAt = Number(match[1]);
  const given = Buffer.from(match[2]!, 'base64url');
  if (given.length !== 32) return 'bad';
  if (!timingSafeEqual(given, signature(secret, scope, expiresAt))) return 'bad';
  return expiresAt * 1000 <= nowMs ? 'expired' : 'valid';
}

/** True for text shaped like a viewer token, so that only such text is carried into playlist and player URLs. */
export function looksLikeViewerToken(text: string): boolean {
  return TOKEN_PATTERN.test(text);
}

/**
 * A token for `toScope` expiring with `token`, if `token` is valid for `fromScope`: a player page opened with its
 * stream's token links the camera's other streams (fallbacks, snippets), each with a token of its own.
 */
export function reissueViewerToken(secret: string, fromScope: string, token: string, toScope: string, nowMs = Date.now()): string | undefined {
  if (checkViewerToken(secret, fromScope, token, nowMs) !== 'valid') return undefined;
  return signViewerToken(secret, toScope, Number(token.split('.', 1)[0]));
}
