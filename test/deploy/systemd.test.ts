import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';

// deploy/systemd/relay.service: the settings it promises, and systemd's own verdict on the file.

const UNIT = new URL('../../deploy/systemd/relay.service', import.meta.url);

/** The unit's settings by section, each key with all its values (a key may repeat). */
function parseUnit(text: string): Map<string, Map<string, string[]>> {
  const sections = new Map<string, Map<string, string[]>>();
  let current: Map<string, string[]> | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const header = /^\[(\w+)\]$/.exec(line);
    if (header) {
      sections.set(header[1]!, (current = new Map()));
      continue;
    }
    const eq = line.indexOf('=');
    if (!current || eq < 0) throw new Error(`unexpected line: ${line}`);
    const key = line.slice(0, eq);
    current.set(key, [...(current.get(key) ?? []), line.slice(eq + 1)]);
  }
  return sections;
}

/** Runs `systemd-analyze verify` on unit text (written to a temporary file); resolves with its exit code and output. */
async function verify(text: string, name = 'camera-relay.service'): Promise<{ code: number; output: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'relay-unit-'));
  try {
    await writeFile(join(dir, name), text);
    return await new Promise((resolve) => {
      execFile('systemd-analyze', ['verify', join(dir, name)], { timeout: 30_000 }, (error, stdout, stderr) => {
        resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, output: `${stdout}${stderr}`.trim() });
      });
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The shipped unit, with ExecStart's node replaced by this machine's if it lives elsewhere (verify checks it exists). */
async function unitForThisMachine(): Promise<string> {
  const text = await readFile(UNIT, 'utf8');
  return existsSync('/usr/bin/node') ? text : text.replace('ExecStart=/usr/bin/node ', `ExecStart=${process.execPath} `);
}

t.test('the unit runs as its own user, restarts on failure, reloads with SIGHUP, and is hardened', async (t) => {
  const service = parseUnit(await readFile(UNIT, 'utf8')).get('Service')!;
  const one = (key: string): string | undefined => service.get(key)?.at(-1);
  t.equal(one('User'), 'relay');
  t.equal(one('Restart'), 'on-failure');
  t.equal(one('ExecReload'), '/bin/kill -HUP $MAINPID');
  t.match(one('ExecStart'), /relay\/bin\.mjs -c \/etc\/camera-relay\/relay\.conf$/);
  t.ok(Number(one('LimitNOFILE')) >= 65536, 'room for thousands of viewers');
  for (const [key, value] of [['NoNewPrivileges', 'yes'], ['ProtectSystem', 'strict'], ['PrivateTmp', 'yes'], ['ProtectHome', 'yes']]) {
    t.equal(one(key!), value, `${key}=${value}`);
  }
  t.equal(one('ReadWritePaths'), '/var/lib/camera-relay', 'writes only where recordings and media live');
});

const verifierAvailable = await new Promise<boolean>((resolve) => execFile('systemd-analyze', ['--version'], (error) => resolve(!error)));
const skip = verifierAvailable ? false : 'systemd-analyze is not installed here: the unit was not verified by systemd';

t.test('systemd-analyze verify accepts the unit, and notices a broken one', { skip }, async (t) => {
  const text = await unitForThisMachine();
  t.same(await verify(text), { code: 0, output: '' }, 'no warning, no error');
  const misspelt = await verify(text.replace('LimitNOFILE=', 'LimitNOFILES='));
  t.match(misspelt.output, /Unknown key 'LimitNOFILES'/, 'a misspelt key is reported (the check can fail)');
  const missingBinary = await verify(text.replace(/^ExecStart=\S+/m, 'ExecStart=/nonexistent/node'));
  t.not(missingBinary.code, 0, 'a missing ExecStart binary fails verification');
});

// Guards: the unit ran in /opt/camera-relay, read-only to it, so the example's RecordPath ./recordings could not be written,
// and the README's examples named /var/lib/relay and /var/cache/relay-vod, outside what the unit lets it write.
t.test('every path the README, docs/ and the example give RecordPath, MediaPath, VodCachePath and LogFile is writable under the unit', async (t) => {
  const { DIRECTIVES } = await import('../../conf/directives.ts');
  const { resolve } = await import('node:path');
  const service = parseUnit(await readFile(UNIT, 'utf8')).get('Service')!;
  const one = (key: string): string | undefined => service.get(key)?.at(-1);
  const writable = [
    ...(service.get('ReadWritePaths') ?? []).flatMap((value) => value.split(/\s+/)),
    ...[['StateDirectory', '/var/lib'], ['CacheDirectory', '/var/cache'], ['LogsDirectory', '/var/log']]
      .flatMap(([key, root]) => (service.get(key!) ?? []).map((name) => `${root}/${name}`)),
  ];
  const isWritable = (path: string): boolean => writable.some((root) => path === root || path.startsWith(`${root}/`));
  const workingDirectory = one('WorkingDirectory')!;
  t.ok(isWritable(workingDirectory), `WorkingDirectory ${workingDirectory} is writable (${writable.join(', ')})`);
  for (const name of ['RecordPath', 'MediaPath']) {
    const resolved = resolve(workingDirectory, DIRECTIVES.global[name]!.default as string);
    t.ok(isWritable(resolved), `the default ${name} resolves to ${resolved}, writable`);
  }
  const { readdir } = await import('node:fs/promises');
  const pages = (await readdir(new URL('../../docs/', import.meta.url))).filter((name) => name.endsWith('.md')).map((name) => `docs/${name}`);
  const docs = (await Promise.all(['README.md', 'relay.conf.example', ...pages].map((path) => readFile(new URL(`../../${path}`, import.meta.url), 'utf8')))).join('\n');
  const named = [...docs.matchAll(/\b(RecordPath|MediaPath|VodCachePath|LogFile) (\/\S+)/g)].map((match) => [match[1]!, match[2]!] as const);
  t.ok(named.length >= 3, `absolute paths found: ${named.map(([, path]) => path).join(', ')}`);
  for (const [directive, path] of named) t.ok(isWritable(path), `${directive} ${path} is writable under the unit`);
});
