import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/** A parsed scrypt hash as `relay --hash-password` writes it: `$scrypt$N=16384,r=8,p=1$SALT$KEY` (base64). */
export interface PasswordHash {
  readonly cost: number;
  readonly blockSize: number;
  readonly parallelization: number;
  readonly salt: Buffer;
  readonly key: Buffer;
}

const DEFAULT_COST = 16_384;
const KEY_BYTES = 32;
const HASH_PATTERN = /^\$scrypt\$N=(\d{1,7}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9+/]{22,88}={0,2})\$([A-Za-z0-9+/]{43}=?)$/;

/** Parses a stored hash; undefined for anything else (notably a plain-text password someone put in the config). */
export function parsePasswordHash(text: string): PasswordHash | undefined {
  const match = HASH_PATTERN.exec(text);
  if (!match) return undefined;
  const [cost, blockSize, parallelization] = [Number(match[1]), Number(match[2]), Number(match[3])];
  // Bounds keep a hostile config from asking for gigabytes per login; N must be a power of two for scrypt.
  if (cost < 1024 || cost > 1_048_576 || (cost & (cost - 1)) !== 0) return undefined;
  if (blockSize < 1 || blockSize > 16 || parallelization < 1 || parallelization > 4) return undefined;
  const salt = Buffer.from(match[4]!, 'base64');
  const key = Buffer.from(match[5]!, 'base64');
  if (salt.length < 16 || key.length !== KEY_BYTES) return undefined;
  return { cost, blockSize, parallelization, salt, key };
}

function derive(secret: string, salt: Buffer, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(secret.normalize('NFC'), salt, KEY_BYTES, { ...options, maxmem: 256 * options.N! * options.r! + 32 * 1024 * 1024 }, (error, key) =>
      error ? reject(error) : resolve(key),
    );
  });
}

/** Hashes a password (or an API token) with a fresh random salt, in the format parsePasswordHash reads. */
export async function hashPassword(secret: string, cost = DEFAULT_COST): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(secret, salt, { N: cost, r: 8, p: 1 });
  return `$scrypt$N=${cost},r=8,p=1$${salt.toString('base64')}$${key.toString('base64')}`;
}

/** True when `secret` matches the hash; the keys compared are always 32 bytes, in constant time. */
export async function verifyPassword(secret: string, hash: PasswordHash): Promise<boolean> {
  // Absurdly long inputs are refused before the key derivation, which costs the same for any length anyway.
  if (secret.length > 1024) return false;
  const key = await derive(secret, hash.salt, { N: hash.cost, r: hash.blockSize, p: hash.parallelization });
  return timingSafeEqual(key, hash.key);
}
