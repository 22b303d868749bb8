import t from 'tap';
import { hashPassword, parsePasswordHash, verifyPassword } from '../../../lib/password.ts';
import { addTokenToPlaylist } from '../../../relay/auth/playlist-token.ts';
import { checkViewerToken, signViewerToken } from '../../../relay/auth/viewer-token.ts';
import { FailedLogins } from '../../../relay/auth/failures.ts';
import { prng } from '../../helpers/prng.ts';

const SECRET = 'a-secret-of-more-than-thirty-two-characters';
const now = Date.UTC(2030, 0, 1);
const inAnHour = now / 1000 + 3600;

t.test('a viewer token is valid for its scope until it expires', async (t) => {
  const token = signViewerToken(SECRET, 'test.m3u8', inAnHour);
  t.match(token, /^\d+\.[A-Za-z0-9_-]{43}$/);
  t.equal(checkViewerToken(SECRET, 'test.m3u8', token, now), 'valid');
  t.equal(checkViewerToken(SECRET, 'test.m3u8', token, (inAnHour + 1) * 1000), 'expired');
  t.equal(checkViewerToken(SECRET, 'test.flv', token, now), 'bad', 'a token of one stream is bad on another');
  t.equal(checkViewerToken(`${SECRET}x`, 'test.m3u8', token, now), 'bad', 'another secret');
});

t.test('edited, truncated, oversized and garbage tokens are bad, never expired', async (t) => {
  const token = signViewerToken(SECRET, 'test.flv', inAnHour);
  const [expiry, signature] = token.split('.') as [string, string];
  const cases: Record<string, string> = {
    'expiry moved later': `${Number(expiry) + 86400}.${signature}`,
    'expiry moved into the past': `${Number(expiry) - 7200}.${signature}`,
    'signature truncated': `${expiry}.${signature.slice(0, 42)}`,
    'signature one character longer': `${expiry}.${signature}A`,
    'signature flipped': `${expiry}.${signature[0] === 'A' ? 'B' : 'A'}${signature.slice(1)}`,
    'no signature': `${expiry}.`,
    'no expiry': `.${signature}`,
    'negative expiry': `-1.${signature}`,
    'padded base64': `${expiry}.${signature}=`,
    'huge expiry': `${'9'.repeat(400)}.${signature}`,
    'empty': '',
    'spaces': ` ${token} `,
    'a JWT': 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ0ZXN0In0.c2lnbmF0dXJl',
  };
  for (const [name, candidate] of Object.entries(cases)) t.equal(checkViewerToken(SECRET, 'test.flv', candidate, now), 'bad', name);
  const random = prng(17);
  for (let i = 0; i < 500; i++) {
    const bytes = Buffer.from(Array.from({ length: Math.floor(random() * 120) }, () => Math.floor(random() * 256)));
    t.equal(checkViewerToken(SECRET, 'test.flv', bytes.toString('latin1'), now), 'bad');
  }
});

t.test('password hashes verify the right password only and refuse to parse plain text', async (t) => {
  const stored = await hashPassword('correct horse', 1024);
  const hash = parsePasswordHash(stored)!;
  t.ok(hash, 'the printed hash parses');
  t.equal(await verifyPassword('correct horse', hash), true);
  t.equal(await verifyPassword('correct hors', hash), false);
  t.equal(await verifyPassword('', hash), false);
  t.equal(await verifyPassword('x'.repeat(100_000), hash), false, 'an enormous password is refused, not hashed');
  t.not(await hashPassword('correct horse', 1024), stored, 'a fresh salt every time');
  for (const bad of ['correct horse', '', '$scrypt$', stored.slice(0, -5), `${stored}A`, stored.replace('N=1024', 'N=1000'), stored.replace('N=1024', 'N=1073741824'), stored.replace('r=8', 'r=99')]) {
    t.equal(parsePasswordHash(bad), undefined, `not a hash: ${bad.slice(0, 40)}`);
  }
});

t.test('a wrong password costs the same whatever its length', async (t) => {
  // Guards against an early exit on length, which would tell an attacker how long the password is.
  const hash = parsePasswordHash(await hashPassword('the-real-password-is-quite-long', 16_384))!;
  const once = async (guess: string): Promise<number> => {
    const start = process.hrtime.bigint();
    await verifyPassword(guess, hash);
    return Number(process.hrtime.bigint() - start) / 1e6;
  };
  // Alternated, so that load from other processes falls on both alike; medians of 7.
  const shortRuns: number[] = [];
  const longRuns: number[] = [];
  for (let i = 0; i < 7; i++) {
    shortRuns.push(await once('x'));
    longRuns.push(await once('y'.repeat(500)));
  }
  const median = (runs: number[]): number => runs.sort((a, b) => a - b)[3]!;
  const short = median(shortRuns);
  const long = median(longRuns);
  const ratio = short / long;
  t.ok(ratio > 0.25 && ratio < 4, `median ${short.toFixed(1)} ms for 1 character, ${long.toFixed(1)} ms for 500`);
});

t.test('the playlist carries the token into relative URIs only', async (t) => {
  const playlist = [
    '#EXTM3U',
    '#EXT-X-MAP:URI="test/init.mp4"',
    '#EXTINF:2.0,',
    'test/seg000001.ts',
    '#EXT-X-PART:DURATION=0.2,URI="test/part1.m4s?x=1"',
    '#EXT-X-PRELOAD-HINT:TYPE=PART,URI="test/part2.m4s"',
    'https://elsewhere.example/seg.ts',
    '//elsewhere.example/seg.ts',
    '',
  ].join('\n');
  const out = addTokenToPlaylist(playlist, 'T.1');
  t.equal(out, [
    '#EXTM3U',
    '#EXT-X-MAP:URI="test/init.mp4?token=T.1"',
    '#EXTINF:2.0,',
    'test/seg000001.ts?token=T.1',
    '#EXT-X-PART:DURATION=0.2,URI="test/part1.m4s?x=1&token=T.1"',
    '#EXT-X-PRELOAD-HINT:TYPE=PART,URI="test/part2.m4s?token=T.1"',
    'https://elsewhere.example/seg.ts',
    '//elsewhere.example/seg.ts',
    '',
  ].join('\n'));
});

t.test('failed logins slow one address down, doubling, and are forgotten', async (t) => {
  let clock = 0;
  const failures = new FailedLogins(() => clock);
  t.equal(failures.delayFor('192.0.2.1'), 0);
  const delays = [1, 2, 3, 4, 5, 6, 7, 8].map(() => {
    failures.fail('192.0.2.1');
    return failures.delayFor('192.0.2.1');
  });
  t.same(delays, [250, 500, 1000, 2000, 4000, 8000, 8000, 8000]);
  t.equal(failures.delayFor('192.0.2.2'), 0, 'another address is not slowed');
  t.equal(failures.total, 8);
  clock += 16 * 60_000;
  t.equal(failures.delayFor('192.0.2.1'), 0, 'forgotten after a quiet quarter hour');
  for (let i = 0; i < 20_000; i++) failures.fail(`10.0.${i >> 8}.${i & 255}`);
  t.ok(failures.size <= 10_000, `a flood from many addresses stays bounded (${failures.size})`);
});
