import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import t from 'tap';
import type { Page } from 'playwright-core';
import { signViewerToken } from '../../../relay/auth/viewer-token.ts';
import { launchChromium, screenshot } from '../../helpers/browser.ts';
import { ffprobe } from '../../helpers/probe.ts';
import { basic, get } from '../../helpers/request.ts';
import { startTestRelay } from '../../helpers/relay.ts';
import { unusedPort } from '../../helpers/ports.ts';
import { connect } from 'node:net';
import { endWebRtc } from '../../helpers/whep-client.ts';

const run = promisify(execFile);
const root = new URL('../../../', import.meta.url).pathname;

// The example config with its auth block uncommented, as a user would enable it; only the ports change.
const example = await readFile(`${root}relay.conf.example`, 'utf8');
const rtspPort = await unusedPort();
const enabled = example
  .replace(/^HTTPPort 8090\b/m, 'HTTPPort 0')
  .replace(/^RTSPPort\s+\d+/m, `RTSPPort ${rtspPort}\nRTSPUDPPortRange 46000-46999`)
  .replace(/^# (AdminUser|AdminToken|MetricsAuth|ViewerTokenSecret|DefaultAccess) /gm, '$1 ');
const secret = /^ViewerTokenSecret (\S+)/m.exec(enabled)?.[1];
t.ok(secret, 'the auth block has a ViewerTokenSecret');
const relay = await startTestRelay(enabled);
const browser = await launchChromium();
t.teardown(async () => {
  await browser.close();
  await relay.stop();
  // The player pages play over WebRTC first: node-datachannel keeps the process alive unless it is ended.
  endWebRtc();
});
const url = (path: string): string => `${relay.baseUrl}${path}`;

/** What `relay -c FILE --sign-url PATH --expires N` prints, run as a user runs it. */
async function signUrl(path: string, expires = '3600'): Promise<string> {
  const { stdout } = await run(process.execPath, [`${root}relay/bin.mjs`, '-c', relay.configFile, '--sign-url', path, '--expires', expires], { timeout: 30_000 });
  return stdout.trim();
}

t.test('the status page: 401 without credentials, 200 with the example admin', async (t) => {
  t.equal((await get(url('/stat.html'))).status, 401);
  t.equal((await get(url('/stat.html'), { headers: { authorization: basic('admin', 'change-me') } })).status, 200);
  t.equal((await get(url('/metrics'), { headers: { authorization: 'Bearer change-me-token' } })).status, 200, 'the example bearer token');
});

t.test('a stream: 403 without a token, plays with a signed URL, 410 once expired', async (t) => {
  // Each `relay --sign-url` is a process that loads the relay: the four are started together.
  const [signed, signedHls, absolute, refused] = await Promise.all([
    signUrl('/test.flv'),
    signUrl('/test.m3u8'),
    signUrl(`http://relay.example:8090/test.flv`, '60'),
    run(process.execPath, [`${root}relay/bin.mjs`, '-c', relay.configFile, '--sign-url', '/stat.html']).catch((error: { code: number; stderr: string }) => error),
  ]);
  t.equal((await get(url('/test.flv'))).status, 403);
  t.match(signed, /^\/test\.flv\?token=\d+\.[A-Za-z0-9_-]{43}$/, `relay --sign-url printed ${signed}`);
  const probed = await ffprobe(url(signed), 2);
  t.equal(probed.codec_name, 'h264', 'ffprobe plays the signed FLV URL');
  t.equal(probed.width, 640);
  const hls = await ffprobe(url(signedHls), 2);
  t.equal(hls.codec_name, 'h264', 'and the signed HLS playlist, segments included');
  const expired = signViewerToken(secret!, 'test.flv', Math.floor(Date.now() / 1000) - 1);
  t.equal((await get(url(`/test.flv?token=${expired}`))).status, 410);
  t.match(absolute, /^http:\/\/relay\.example:8090\/test\.flv\?token=/, 'absolute URLs keep their origin');
  t.match(refused, { code: 1, stderr: /\/stat\.html is not a stream of/ }, 'the status page is not signable');
});

/** Waits until the page's video has played `seconds` by its own clock. */
async function plays(page: Page, seconds: number): Promise<{ width: number; engine: string }> {
  const deadline = Date.now() + 30_000;
  let start: number | undefined;
  for (;;) {
    const now = await page.evaluate(() => {
      const video = document.querySelector('video')!;
      return { time: video.currentTime, width: video.videoWidth, engine: (window as unknown as { relayPlayer: { engine: string } }).relayPlayer.engine };
    });
    if (now.time > 0 && start === undefined) start = now.time;
    if (start !== undefined && now.time - start >= seconds) return now;
    if (Date.now() > deadline) throw new Error(`the video did not play ${seconds} s: ${JSON.stringify(now)}`);
    await page.waitForTimeout(250);
  }
}

t.test('the signed player page plays in Chromium with hls.js, under the CSP', async (t) => {
  const signed = await signUrl('/player/test.m3u8');
  const violations: string[] = [];
  // The two pages play at the same time, each watched for its own three seconds.
  const players = await Promise.all(([['default', signed], ['hlsjs', `${signed}&engine=hlsjs`]] as const).map(async ([name, link]) => {
    const page = await browser.newPage();
    t.teardown(() => page.close());
    page.on('console', (message) => {
      if (/Content Security Policy|Refused to/i.test(message.text())) violations.push(message.text());
    });
    await page.goto(url(link)); // the player starts by itself, muted, as a person opening the link sees it
    return { name, page, played: await plays(page, 3) };
  }));
  for (const { name, page, played } of players) {
    t.equal(played.width, 640, `${name}: plays 640 pixels wide with ${played.engine}`);
    if (name === 'hlsjs') t.equal(played.engine, 'hlsjs');
    await screenshot(page, `auth-player-${name}`);
  }
  t.equal((await get(url('/player/test.m3u8'))).status, 403, 'the same page without the token');
  const context = await browser.newContext({ httpCredentials: { username: 'admin', password: 'change-me' } });
  t.teardown(() => context.close());
  const status = await context.newPage();
  status.on('console', (message) => {
    if (/Content Security Policy|Refused to/i.test(message.text())) violations.push(message.text());
  });
  await status.goto(url('/stat.html'));
  await status.waitForFunction(() => /updated|refreshes/.test(document.getElementById('refresh-state')?.textContent ?? ''), undefined, { timeout: 10_000 });
  await status.waitForTimeout(3500);
  t.same(violations, [], 'no CSP violation on the player or status pages');
});

/** The status line and headers of one RTSP DESCRIBE, sent by hand. */
function describe(uri: string, authorization?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(rtspPort, '127.0.0.1');
    let text = '';
    socket.on('data', (chunk) => {
      text += String(chunk);
      if (text.includes('\r\n\r\n')) {
        socket.destroy();
        resolve(text.slice(0, text.indexOf('\r\n\r\n')));
      }
    });
    socket.on('error', reject);
    socket.write(`DESCRIBE ${uri} RTSP/1.0\r\nCSeq: 1\r\n${authorization ? `Authorization: ${authorization}\r\n` : ''}\r\n`);
  });
}

t.test('RTSP: a challenge without a token, plays with the signed URL or the token as password, 410 once expired', async (t) => {
  const base = `rtsp://127.0.0.1:${rtspPort}/test.flv`;
  const challenge = await describe(base);
  t.match(challenge, /^RTSP\/1\.0 401 Unauthorized\r\n/);
  t.match(challenge, /WWW-Authenticate: Basic realm="relay"/);
  const signed = await signUrl('/test.flv');
  const token = signed.split('token=')[1]!;
  t.match(await describe(`${base}?token=${token}`), /^RTSP\/1\.0 200 OK/, 'DESCRIBE with the signed query');
  t.match(await describe(`${base}?token=${signViewerToken(secret!, 'test.m3u8', Math.floor(Date.now() / 1000) + 60)}`), /^RTSP\/1\.0 403 /, 'another stream\'s token');
  t.match(await describe(`${base}?token=${signViewerToken(secret!, 'test.flv', Math.floor(Date.now() / 1000) - 1)}`), /^RTSP\/1\.0 410 /, 'expired');
  const probed = await ffprobe(`${base}?token=${token}`, 2, ['-rtsp_transport', 'tcp']);
  t.equal(probed.codec_name, 'h264', 'ffprobe plays rtsp://.../test.flv?token=');
  const asPassword = await ffprobe(`rtsp://viewer:${token}@127.0.0.1:${rtspPort}/test.flv`, 2, ['-rtsp_transport', 'tcp']);
  t.equal(asPassword.width, 640, 'and with the token as the password, after the 401 challenge');
});
