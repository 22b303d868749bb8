import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import t from 'tap';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../../', import.meta.url));

// Imports relay/app/main.ts in a fresh node and lists the npm packages it loaded, ESM (seen by a resolve hook
// registered first) and CommonJS (the require cache).
const LIST_PACKAGES = `
import { createRequire, register } from 'node:module';
import { MessageChannel } from 'node:worker_threads';
const urls = new Set();
const { port1, port2 } = new MessageChannel();
port1.on('message', (url) => urls.add(url));
port1.unref();
const hook = 'let port; export function initialize(data) { port = data.port; }'
  + ' export async function resolve(specifier, context, next) { const found = await next(specifier, context); port.postMessage(found.url); return found; }';
register('data:text/javascript,' + encodeURIComponent(hook), { data: { port: port2 }, transferList: [port2] });
await import(new URL('relay/app/main.ts', 'file://' + process.cwd() + '/').href);
await new Promise((done) => setTimeout(done, 100));
const paths = [...urls, ...Object.keys(createRequire(import.meta.url).cache)];
const names = new Set(paths.map((path) => /node_modules\\/((@[^/]+\\/)?[^/]+)/.exec(path)?.[1]).filter(Boolean));
console.log(JSON.stringify([...names]));
process.exit(0);`;

// Guards the relay's memory at start: a package one feature needs (ONVIF's XML parser, the frame export's ZIP writer,
// the /vod/ file server, WebSocket, WebRTC, S3) is loaded with that feature's first use, never by every relay.
t.test('the relay loads no feature-only package at start', async (t) => {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', LIST_PACKAGES], { cwd: root, timeout: 60_000 });
  const loaded = JSON.parse(stdout.trim().split('\n').pop() ?? '[]') as string[];
  t.ok(loaded.includes('koa'), `the listing sees what the relay loads: ${loaded.join(' ')}`);
  for (const name of ['fast-xml-parser', 'yazl', 'send', 'ws', 'node-datachannel', '@aws-sdk/client-s3', '@aws-sdk/lib-storage']) {
    t.notOk(loaded.includes(name), `${name} is not loaded at start`);
  }
});
