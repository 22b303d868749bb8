import type { Page } from 'playwright-core';

/**
 * Taps the page's <video> with a Web Audio AnalyserNode before anyone unmutes it, so the analyser hears only what the
 * page lets through. Call once per page; then `soundPeak(page)` measures.
 */
export async function tapVideoSound(page: Page): Promise<void> {
  await page.evaluate(() => {
    const video = document.querySelector('video')!;
    const audio = new AudioContext();
    const analyser = audio.createAnalyser();
    analyser.fftSize = 2048;
    audio.createMediaElementSource(video).connect(analyser);
    analyser.connect(audio.destination);
    (window as unknown as { soundPeak: () => Promise<number> }).soundPeak = async () => {
      await audio.resume();
      const samples = new Float32Array(analyser.fftSize);
      let peak = 0;
      for (let i = 0; i < 20; i++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        analyser.getFloatTimeDomainData(samples);
        for (const sample of samples) peak = Math.max(peak, Math.abs(sample));
      }
      return peak;
    };
  });
}

/** The loudest sample the tapped video let through over about one second (0 is silence, 1 full scale). */
export const soundPeak = (page: Page): Promise<number> =>
  page.evaluate(() => (window as unknown as { soundPeak: () => Promise<number> }).soundPeak());

/** What a player page's sound does around its unmute button: silent while muted, the tone after the click. */
export interface UnmuteHeard {
  readonly mutedPeak: number;
  readonly peak: number;
  /** Whether the unmute button still shows after the click. */
  readonly buttonShown: boolean;
  /** The video element's `muted` after the click. */
  readonly muted: boolean;
}

/** Waits for the page's unmute button, listens while muted, clicks it and listens again. */
export async function listenAroundUnmute(page: Page): Promise<UnmuteHeard> {
  await page.waitForSelector('#player-unmute', { state: 'visible', timeout: 15_000 });
  await tapVideoSound(page);
  const mutedPeak = await soundPeak(page);
  await page.click('#player-unmute');
  const peak = await soundPeak(page);
  const buttonShown = await page.isVisible('#player-unmute');
  const muted = await page.evaluate(() => document.querySelector('video')!.muted);
  return { mutedPeak, peak, buttonShown, muted };
}
