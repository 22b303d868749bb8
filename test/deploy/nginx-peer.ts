import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { unusedPort } from '../helpers/ports.ts';

/** The nginx configuration shipped in deploy/, as the test runs it. */
export const SHIPPED_CONFIG = new URL('../../deploy/nginx/relay.conf', import.meta.url);

/** A running nginx: its port, its directory, and its access log. */
export interface NginxPeer {
  readonly port: number;
  readonly baseUrl: string;
  readonly dir: string;
  readonly process: ChildProcess;
  /** The access log's lines so far (format relay_cache). */
  accessLog(): Promise<string[]>;
  stop(): Promise<void>;
}

/**
 * The shipped file with only what a machine changes: the relay's address, the listening port and the cache and log
 * paths. Each replacement must apply exactly once, so a change to the file's shape fails the test instead of
 * silently testing something else.
 */
export function adaptShippedConfig(text: string, options: { upstreamPort: number; port: number; dir: string }): string {
  const replacements: Array<[RegExp, string]> = [
    [/server 127\.0\.0\.1:8090;/g, `server 127.0.0.1:${options.upstreamPort};`],
    [/listen 80;/g, `listen 127.0.0.1:${options.port};`],
    [/\/var\/cache\/nginx\/relay /g, `${join(options.dir, 'cache')} `],
    [/\/var\/cache\/nginx\/relay-auth /g, `${join(options.dir, 'cache-auth')} `],
    [/\/var\/log\/nginx\/relay-access\.log /g, `${join(options.dir, 'access.log')} `],
  ];
  let out = text;
  for (const [pattern, value] of replacements) {
    const count = out.match(pattern)?.length ?? 0;
    if (count !== 1) throw new Error(`deploy/nginx/relay.conf: expected ${pattern} once, found it ${count} times`);
    out = out.replace(pattern, value);
  }
  return out;
}

/** Starts Debian's nginx as this user, in a temporary directory, in front of a relay on `upstreamPort`. */
export async function startNginx(upstreamPort: number): Promise<NginxPeer> {
  const dir = await mkdtemp(join(tmpdir(), 'relay-nginx-'));
  await mkdir(join(dir, 'cache'));
  await mkdir(join(dir, 'cache-auth'));
  const port = await unusedPort();
  const site = adaptShippedConfig(await readFile(SHIPPED_CONFIG, 'utf8'), { upstreamPort, port, dir });
  const temp = (name: string): string => `${name}_temp_path ${join(dir, name)};`;
  // As root, nginx would switch its workers to `nobody`, which cannot write the temporary directory.
  const user = process.getuid?.() === 0 ? `user ${userInfo().username};` : '';
  await writeFile(join(dir, 'nginx.conf'), `${user}
worker_processes 1;
pid ${join(dir, 'nginx.pid')};
error_log ${join(dir, 'error.log')} warn;
events { worker_connections 4096; }
http {
  ${temp('client_body')} ${temp('proxy')} ${temp('fastcgi')} ${temp('uwsgi')} ${temp('scgi')}
${site}
}
`);
  const child = spawn('nginx', ['-p', dir, '-e', join(dir, 'error.log'), '-c', join(dir, 'nginx.conf'), '-g', 'daemon off;'],
    { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGQUIT');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    }
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await waitForPort(port, child, () => stderr);
  } catch (error) {
    const log = await readFile(join(dir, 'error.log'), 'utf8').catch(() => '');
    await stop();
    throw new Error(`${(error as Error).message}\n${stderr}\n${log}`);
  }
  return {
    port,
    baseUrl: `http://127.0.0.1:${port}`,
    dir,
    process: child,
    accessLog: async () => (await readFile(join(dir, 'access.log'), 'utf8').catch(() => '')).split('\n').filter(Boolean),
    stop,
  };
}

async function waitForPort(port: number, child: ChildProcess, stderr: () => string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`nginx exited with code ${child.exitCode}: ${stderr()}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.destroy();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error('nginx did not listen within 10 s');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
