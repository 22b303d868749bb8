import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

/** Where screenshots go (git-ignored), to look at by eye. */
export const ARTIFACTS = join(import.meta.dirname, '..', '..', 'test-artifacts');

/** Debian's Chromium, headless, with nothing that reaches out to the network by itself. */
export async function launchChromium(): Promise<Browser> {
  await mkdir(ARTIFACTS, { recursive: true });
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'],
    timeout: 20_000,
  });
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
