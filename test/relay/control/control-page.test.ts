import t from 'tap';
import type { Page } from 'playwright-core';
import { launchChromium, screenshot } from '../../helpers/browser.ts';
import { CanonControlCamera } from '../../helpers/canon-control-camera.ts';
import { OnvifDeviceSimulator } from '../../helpers/onvif-device.ts';
import { startTestRelay } from '../../helpers/relay.ts';
import { endWebRtc } from '../../helpers/whep-client.ts';

const camera = await CanonControlCamera.start();
const device = await new OnvifDeviceSimulator({ username: 'admin', password: 'pw' }).start();
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
<Camera dome>
  Source testsrc://?size=160x120&rate=5
  OnDemand yes
  Control onvif
  ControlAddress http://127.0.0.1:${device.port}
  Username admin
  Password pw
  ControlHoldSeconds 30
  ControlIdleSeconds 30
</Camera>
<Stream dome.flv>
  Feed dome
</Stream>
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
  await device.stop();
  // The player pages play over WebRTC first: node-datachannel keeps the process alive unless it is ended.
  endWebRtc();
});

async function openPlayer(path: string, beforeLoad: (page: Page) => void = () => {}, options: { hasTouch?: boolean; waitUntil?: 'load' | 'domcontentloaded' } = {}): Promise<{ page: Page; errors: string[] }> {
  const context = await browser.newContext({ hasTouch: options.hasTouch });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error' && /Content Security Policy|Refused/.test(message.text())) errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(error.message));
  beforeLoad(page);
  await page.goto(`${relay.baseUrl}${path}`, { waitUntil: options.waitUntil });
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

/** Opens the index page and follows its player link for `stream`, as a person would (no query string). */
async function openLinkedPlayer(stream: string, options: { hasTouch?: boolean } = {}): Promise<{ page: Page; errors: string[] }> {
  const viewer = await openPlayer('/', (page) => {
    page.on('console', (message) => { if (message.type() === 'error') viewer.errors.push(message.text()); });
  }, { ...options, waitUntil: 'domcontentloaded' });
  await viewer.page.locator('li', { has: viewer.page.locator(`a:text-is("${stream}")`) }).getByRole('link', { name: 'player', exact: true }).click();
  await viewer.page.waitForURL(`**/player/${stream}`, { waitUntil: 'commit' });
  await viewer.page.locator('#control .control-request').waitFor({ state: 'visible', timeout: 10_000 });
  return viewer;
}

const waitStatus = (page: Page, pattern: RegExp, timeout = 5000) => page.waitForFunction((source) => new RegExp(source).test(document.querySelector('.control-status')?.textContent ?? ''), pattern.source, { timeout });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

t.test('two viewers take turns on an ONVIF camera from the linked player page: press and hold moves, the second gets control when the first leaves', async (t) => {
  // Also guards the camera's own presets missing from the panel until a first command had connected to the camera.
  device.position = { x: -1, y: 0, zoom: 0 };
  const a = await openLinkedPlayer('dome.flv');
  const b = await openLinkedPlayer('dome.flv');
  t.equal(new URL(a.page.url()).search, '', 'the page as linked, no query string');
  await a.page.getByRole('button', { name: 'request control' }).click();
  await waitStatus(a.page, /you have control/);
  await b.page.getByRole('button', { name: 'request control' }).click();
  await waitStatus(b.page, /place 1 in the queue/);
  t.equal(await b.page.getByRole('button', { name: 'pan right' }).isDisabled(), true, 'the waiting viewer\'s buttons are disabled');

  // Held for longer than one ONVIF move lasts (0.5 s): the camera keeps moving until the button is released.
  const right = a.page.getByRole('button', { name: 'pan right' });
  await right.hover();
  await a.page.mouse.down();
  await sleep(1200);
  const held = device.current().x;
  t.ok(held > -0.4 && held < 1, `held 1.2 s, the camera panned right for longer than one 0.5 s move (x ${held} from -1)`);
  await a.page.mouse.up();
  await sleep(300);
  const released = device.current().x;
  await sleep(400);
  t.equal(device.current().x, released, 'released, the camera stopped');
  t.ok(device.calls.some((call) => call.operation === 'Stop'), 'the release sent Stop');

  await a.page.context().close();
  await waitStatus(b.page, /you have control/, 5000);
  await b.page.getByRole('button', { name: 'Street' }).click();
  for (let i = 0; i < 50 && device.position.x !== 0.5; i++) await sleep(100);
  t.same(device.position, { x: 0.5, y: -0.2, zoom: 0.6 }, 'the second viewer sent the camera to its own preset');
  t.same([...a.errors, ...b.errors], [], 'no console errors and nothing refused by the page\'s CSP');
  await b.page.context().close();
});

t.test('touch: a tap on an arrow is one move, a finger held on it keeps the camera moving until it lifts', async (t) => {
  device.position = { x: 0, y: -1, zoom: 0 };
  const viewer = await openLinkedPlayer('dome.flv', { hasTouch: true });
  await viewer.page.getByRole('button', { name: 'request control' }).tap();
  await waitStatus(viewer.page, /you have control/);
  const up = viewer.page.getByRole('button', { name: 'tilt up' });
  const moves = () => device.calls.filter((call) => call.operation === 'ContinuousMove').length;
  const before = moves();
  await up.tap();
  for (let i = 0; i < 30 && moves() === before; i++) await sleep(100);
  await sleep(700);
  t.equal(moves() - before, 1, 'a tap sent one move');
  const tapped = device.current().y;
  t.ok(tapped > -1 && tapped <= -0.49, `and the camera tilted up by at most one 0.5 s move (y ${tapped} from -1)`);

  // A finger held down, then lifted: real touch input, which the page sees as pointer events of a touch.
  const box = (await up.boundingBox())!;
  const finger = [{ x: box.x + box.width / 2, y: box.y + box.height / 2 }];
  const cdp = await viewer.page.context().newCDPSession(viewer.page);
  await cdp.send('Input.dispatchTouchEvent', { type: 'touchStart', touchPoints: finger });
  await sleep(1200);
  const held = device.current().y;
  t.ok(held > tapped + 0.6, `held 1.2 s, the camera kept tilting for longer than one move (y ${tapped} to ${held})`);
  await cdp.send('Input.dispatchTouchEvent', { type: 'touchEnd', touchPoints: [] });
  await sleep(300);
  const lifted = device.current().y;
  await sleep(400);
  t.equal(device.current().y, lifted, 'lifted, the camera stopped');
  t.same(viewer.errors, [], 'no console errors and nothing refused by the page\'s CSP');
  await viewer.page.context().close();
});
