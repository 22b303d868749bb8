import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import t from 'tap';
import { parseConfig } from '../../../conf/parse.ts';
import { parsePasswordHash, verifyPassword } from '../../../lib/password.ts';

const run = promisify(execFile);
const bin = new URL('../../../relay/bin.mjs', import.meta.url).pathname;

/** Runs `relay ARGS` with `input` on stdin (a pipe, not a terminal). */
function relayWithStdin(args: string[], input: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += String(chunk)));
    child.stderr.on('data', (chunk) => (stderr += String(chunk)));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}

t.test('--hash-password reads the password from stdin and prints a hash the config accepts', async (t) => {
  const { code, stdout } = await relayWithStdin(['--hash-password'], 'piped password\n');
  t.equal(code, 0);
  const printed = stdout.trim();
  t.notMatch(printed, /piped password/);
  const hash = parsePasswordHash(printed);
  t.ok(hash, `a hash: ${printed}`);
  t.equal(await verifyPassword('piped password', hash!), true, 'of the first line, without its newline');
  const { config } = parseConfig(`AdminUser admin ${printed}\n`, 'relay.conf', { schemes: [] });
  t.equal(config.security.adminUsers[0]!.name, 'admin');
});

t.test('--hash-password refuses an empty or oversized password, and any password on the command line', async (t) => {
  t.match(await relayWithStdin(['--hash-password'], ''), { code: 1, stderr: /the password must be 1 to 1024 characters/ });
  t.match(await relayWithStdin(['--hash-password'], `${'x'.repeat(5000)}\n`), { code: 1, stderr: /the password must be 1 to 1024 characters/ });
  const argv = await run(process.execPath, [bin, '--hash-password', 'on-the-command-line']).catch((error: { code: number; stderr: string }) => error);
  t.match(argv, { code: 2 }, 'a positional argument is an error');
  t.notMatch(String((argv as { stdout?: string }).stdout ?? ''), /\$scrypt\$/, 'and nothing is hashed');
});

t.test('--sign-url explains what is wrong', async (t) => {
  const dir = t.testdir({
    'open.conf': '<Camera cam>\n  Source testsrc://\n</Camera>\n<Stream live.flv>\n  Feed cam\n</Stream>\n',
    'signed.conf': `ViewerTokenSecret ${'k'.repeat(32)}\n<Camera cam>\n  Source testsrc://\n</Camera>\n<Stream live.flv>\n  Feed cam\n  Access token\n</Stream>\n`,
  });
  const sign = (file: string, ...args: string[]) =>
    run(process.execPath, [bin, '-c', `${dir}/${file}`, '--sign-url', ...args]).then(
      ({ stdout }) => ({ code: 0, out: stdout }),
      (error: { code: number; stderr: string }) => ({ code: error.code, out: error.stderr }),
    );
  t.match(await sign('open.conf', '/live.flv'), { code: 1, out: /has no ViewerTokenSecret/ });
  t.match(await sign('signed.conf', '/live.flv', '--expires', 'soon'), { code: 1, out: /--expires takes seconds, 1 to 31622400/ });
  t.match(await sign('signed.conf', '/live.flv', '--expires', '0'), { code: 1, out: /--expires takes seconds/ });
  t.match(await sign('signed.conf', '/other.flv'), { code: 1, out: /\/other\.flv is not a stream of/ });
  t.match(await sign('signed.conf', 'http://[bad'), { code: 1, out: /--sign-url takes a URL or a path/ });
  const ok = await sign('signed.conf', '/live.flv', '--expires', '60');
  t.match(ok, { code: 0, out: /^\/live\.flv\?token=\d+\.[A-Za-z0-9_-]{43}\n$/ });
  t.notMatch(ok.out, /kkkk/, 'the secret is not printed');
});
