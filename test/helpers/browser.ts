import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

/** Where screenshots go (git-ignored), to look at by eye. */
export const ARTIFACTS = join(import.meta.dirname, '..', '..', 'test-artifacts');

/**
 * Tests load through tsx, whose esbuild output wraps named functions in `__name(fn, "name")`. A function handed to the
 * page (evaluate, addInitScript, waitForFunction) is sent as its source text, calls included, so every page gets the
 * helper as the identity before any of its scripts or the test's run.
 */
const NAME_HELPER = 'globalThis.__name = (target) => target;';

/** Debian's Chromium, headless, with nothing that reaches out to the network by itself. */
export async function launchChromium(): Promise<Browser> {
  await mkdir(ARTIFACTS, { recursive: true });
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'],
    timeout: 20_000,
  });
  // browser.newPage() makes its context through browser.newContext(), so both get the helper.
  const newContext = browser.newContext.bind(browser);
  browser.newContext = async (options) => {
    const context = await newContext(options);
    await context.addInitScript({ content: NAME_HELPER });
    return context;
  };
  return browser;
}

/** Saves a full-page screenshot as test-artifacts/NAME.png. */
export async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}

/**
 * Launches Chromium for a test file and closes it at the test's teardown, then runs `stops` in order (the relay and
 * whatever else the file started).
 */
export async function launchChromiumFor(t: { teardown(fn: () => Promise<void>): void }, ...stops: Array<() => Promise<unknown>>): Promise<Browser> {
  const browser = await launchChromium();
  t.teardown(async () => {
    await browser.close();
    for (const stop of stops) await stop();
  });
  return browser;
}

/** Everything a page (and any frame in it) complained about: console errors, uncaught errors, CSP violations. */
export async function watchedContext(browser: Browser): Promise<{ context: BrowserContext; problems: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
  const problems: string[] = [];
  await context.exposeBinding('reportViolation', (source, text: string) => problems.push(`CSP violation in ${source.frame.url()}: ${text}`));
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (event) => {
      void (window as unknown as { reportViolation: (text: string) => Promise<void> }).reportViolation(
        `${event.violatedDirective} refused ${event.blockedURI || 'inline'} (${event.sourceFile}:${event.lineNumber})`,
      );
    });
  });
  context.on('page', (page) => watch(page, problems));
  return { context, problems };
}

/** Adds a page's console errors and uncaught errors to `problems`. */
export function watch(page: Page, problems: string[]): void {
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console error on ${page.url()}: ${message.text()} (${message.location().url})`);
  });
  page.on('pageerror', (error) => problems.push(`page error on ${page.url()}: ${error.message}`));
}
