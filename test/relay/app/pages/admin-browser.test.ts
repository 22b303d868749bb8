import t from 'tap';
import { launchChromiumFor, screenshot, watchedContext } from '../../../helpers/browser.ts';
import { startTestRelay } from '../../../helpers/relay.ts';
import { waitFor } from '../../../helpers/probe.ts';

const relay = await startTestRelay(`<Camera door>
  Source testsrc://?size=160x120&rate=5
</Camera>
<Stream stat.html>
  Format status
</Stream>
`);
const browser = await launchChromiumFor(t, () => relay.stop());

t.test('the status page links the admin page, served under the CSP', async (t) => {
  t.match(await (await fetch(`${relay.baseUrl}/stat.html`)).text(), /<a href="\/admin">admin<\/a>/);
  const answer = await fetch(`${relay.baseUrl}/admin`);
  t.equal(answer.status, 200);
  t.match(answer.headers.get('content-security-policy') ?? '', /script-src 'self'/);
});

t.test('a camera is added, changed, tested and removed through /admin with no console error or CSP violation', async (t) => {
  const { context, problems } = await watchedContext(browser);
  t.teardown(() => context.close());
  const page = await context.newPage();
  await page.goto(`${relay.baseUrl}/admin`);
  await page.waitForSelector('.camera-list tr[data-name="door"]');

  // A refusal shows the API's own words.
  const cameras = page.locator('.add-form[data-kind="camera"]');
  await cameras.locator('input[name="name"]').fill('bad');
  await cameras.locator('input[name="first"]').fill('ftp://camera/');
  await cameras.locator('button[type="submit"]').click();
  await page.waitForSelector('#admin-error:not([hidden])');
  t.match(await page.textContent('#admin-error'), /no adapter for ftp:\/\//);

  await cameras.locator('input[name="name"]').fill('yard');
  await cameras.locator('input[name="first"]').fill('testsrc://?size=160x120&rate=5');
  await cameras.locator('textarea[name="directives"]').fill('OnDemand yes');
  await cameras.locator('button[type="submit"]').click();
  await page.waitForSelector('.camera-list tr[data-name="yard"]');
  t.ok(await page.isHidden('#admin-error'), 'the earlier error is cleared');
  t.equal(relay.relay.config.cameras.find((camera) => camera.name === 'yard')?.onDemand, true, 'added with its directives');
  t.ok(relay.relay.feeds.has('yard'), 'and running');

  await page.click('.camera-list tr[data-name="yard"] button.change');
  await page.fill('.change-form[data-kind="camera"] textarea', 'InputFrameRate 3\nOnDemand');
  await page.click('.change-form[data-kind="camera"] button[type="submit"]');
  await page.waitForSelector('#admin-done:has-text("camera yard changed")');
  const yard = relay.relay.config.cameras.find((camera) => camera.name === 'yard');
  t.equal(yard?.inputFrameRate, 3, 'directive set');
  t.equal(yard?.onDemand, false, 'a name alone removed its directive');

  await page.fill('#test-form input[name="source"]', 'testsrc://?size=176x144&rate=10');
  await page.click('#test-form button[type="submit"]');
  await page.waitForSelector('#test-result:not([hidden])', { timeout: 15_000 });
  t.match(await page.textContent('#test-figures'), /^jpeg, 176x144, \d+(\.\d)? fps/);
  await page.waitForFunction(() => (document.getElementById('test-snapshot') as HTMLImageElement).complete);
  t.same(await page.$eval('#test-snapshot', (img) => [(img as HTMLImageElement).naturalWidth, (img as HTMLImageElement).naturalHeight]), [176, 144], 'the snapshot shows');
  await screenshot(page, 'admin-page');

  page.once('dialog', (dialog) => void dialog.accept());
  await page.click('.camera-list tr[data-name="yard"] button.remove');
  await page.waitForSelector('.camera-list tr[data-name="yard"]', { state: 'detached' });
  await waitFor(() => !relay.relay.feeds.has('yard'), 5000, 'the camera stopped');
  // Chromium logs every 4xx answer to fetch(); the one refusal asked for above is the only one allowed.
  const refusal = `Failed to load resource: the server responded with a status of 400 (Bad Request) (${relay.baseUrl}/api/cameras)`;
  t.equal(problems.filter((problem) => problem.endsWith(refusal)).length, 1, 'the refused add logged once');
  t.same(problems.filter((problem) => !problem.endsWith(refusal)), [], 'no other console error, page error or CSP violation');
});
