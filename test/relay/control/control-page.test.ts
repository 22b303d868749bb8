import t from 'tap';
import type { Page } from 'playwright-core';
import { launchChromium, screenshot } from '../../helpers/browser.ts';
import { CanonControlCamera } from '../../helpers/canon-control-camera.ts';
import { startTestRelay } from '../../helpers/relay.ts';
import { endWebRtc } from '../../helpers/whep-client.ts';

const camera = await CanonControlCamera.start();
const relay = await startTestRelay(`
<Camera ptz>
  Source testsrc://?size=160x120&rate=5
  OnDemand yes
  Control canon-http
  ControlAddress ${camera.url}
  ControlHoldSeconds 2
  ControlMaxHoldSeconds 2
  ControlPreset home 0 0 40
</Camera>
<Camera plain>
  Source testsrc://?size=160x120&rate=5
  OnDemand yes
</Camera>
<Stream ptz.flv>
  Feed ptz
</Stream>
<Stream plain.flv>
  Feed plain
</Stream>
`);
const browser = await launchChromium();
t.teardown(async () => {
  await browser.close();
  await relay.stop();
  await camera.close();
  // The player pages play over WebRTC first: node-datachannel keeps the process alive unless it is ended.
  endWebRtc();
});

async function openPlayer(path: string, beforeLoad: (page: Page) => void = () => {}): Promise<{ page: Page; errors: string[] }> {
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error' && /Content Security Policy|Refused/.test(message.text())) errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(error.message));
  beforeLoad(page);
  await page.goto(`${relay.baseUrl}${path}`);
  return { page, errors };
}

const statusOf = (page: Page) => page.locator('.control-status').textContent();

t.test('two browser viewers take turns steering from the player page; keyboard and buttons', async (t) => {
  const a = await openPlayer('/player/ptz.flv');
  const b = await openPlayer('/player/ptz.flv');
  await a.page.locator('#control .control-request').waitFor({ state: 'visible', timeout: 10_000 });
  await a.page.click('#control .control-request');
  await a.page.waitForFunction(() => /you have control/.test(document.querySelector('.control-status')?.textContent ?? ''), undefined, { timeout: 5000 });
  await a.page.keyboard.press('ArrowRight');
  for (let i = 0; i < 50 && camera.pan === 0; i++) await new Promise((resolve) => setTimeout(resolve, 100));
  t.ok(camera.pan > 0, `the arrow key panned the camera right (${camera.pan})`);

  await b.page.locator('#control .control-request').waitFor({ state: 'visible', timeout: 10_000 });
  await b.page.click('#control .control-request');
  await b.page.waitForFunction(() => /place 1 in the queue/.test(document.querySelector('.control-status')?.textContent ?? ''), undefined, { timeout: 5000 });
  t.equal(await b.page.locator('.control-move').first().isDisabled(), true, 'a waiting viewer\'s buttons are disabled');
  await b.page.waitForFunction(() => /you have control/.test(document.querySelector('.control-status')?.textContent ?? ''), undefined, { timeout: 6000 });
  await a.page.waitForFunction(() => /your turn ended \(time\)/.test(document.querySelector('.control-status')?.textContent ?? ''), undefined, { timeout: 3000 });
  await b.page.click('.control-preset');
  for (let i = 0; i < 50 && camera.zoom !== 4000; i++) await new Promise((resolve) => setTimeout(resolve, 100));
  t.same([camera.pan, camera.zoom], [0, 4000], 'the second viewer sent the camera to its home preset');
  t.match(await statusOf(b.page), /you have control: \d s left/);
  await screenshot(b.page, 'control-panel');
  t.same([...a.errors, ...b.errors], [], 'no script errors and nothing refused by the page\'s CSP');
});

t.test('no control panel for a camera without control', async (t) => {
  // Guards a 404 from asking /api/control for every camera, logged as a console error on every plain player page.
  const asked: string[] = [];
  const { page, errors } = await openPlayer('/player/plain.flv', (page) => {
    page.on('request', (request) => { if (request.url().includes('/api/control/')) asked.push(request.url()); });
  });
  await page.waitForLoadState('load');
  await new Promise((resolve) => setTimeout(resolve, 1000));
  t.same(asked, [], 'the page never asks for control');
  t.equal(await page.locator('#control').count(), 0, 'no control panel');
  t.same(errors, []);
});
