import type { Page } from 'playwright-core';

/** What a relay player page shows: its video's clock and size, and window.relayPlayer (player-shell.js). */
export interface PlayerView {
  currentTime: number;
  videoWidth: number;
  videoHeight: number;
  paused: boolean;
  muted: boolean;
  state: string;
  engine: string;
  rebuilds: number;
  label: string;
}

/** Reads the player page's video and player state. */
export const playerView = (page: Page | import('playwright-core').Frame): Promise<PlayerView> =>
  page.evaluate(() => {
    const video = document.querySelector('video')!;
    const info = (window as unknown as { relayPlayer: { engine: string; state: string; rebuilds: number } }).relayPlayer;
    const label = document.getElementById('player-state')?.textContent ?? '';
    return { currentTime: video.currentTime, videoWidth: video.videoWidth, videoHeight: video.videoHeight, paused: video.paused, muted: video.muted, label, ...info };
  });

/** Waits until the page's video has played `seconds` more than when it was first seen playing, by the video's own clock. */
export async function advances(page: Page | import('playwright-core').Frame, seconds: number, timeoutMs: number): Promise<PlayerView> {
  const deadline = Date.now() + timeoutMs;
  let start: number | undefined;
  for (;;) {
    const now = await playerView(page);
    if (now.state === 'playing' && start === undefined) start = now.currentTime;
    if (start !== undefined && now.currentTime - start >= seconds) return now;
    if (Date.now() > deadline) throw new Error(`video did not advance ${seconds} s in ${timeoutMs} ms: ${JSON.stringify(now)}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** Waits until the player's state is `state`, returning what it shows then. */
export async function reachesState(page: Page | import('playwright-core').Frame, state: string, timeoutMs: number): Promise<PlayerView> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const now = await playerView(page);
    if (now.state === state) return now;
    if (Date.now() > deadline) throw new Error(`player never reached '${state}' in ${timeoutMs} ms: ${JSON.stringify(now)}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
