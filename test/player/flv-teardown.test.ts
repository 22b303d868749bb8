import t from 'tap';
import { launchChromiumFor, watchedContext } from '../helpers/browser.ts';
import { advances, playerView } from '../helpers/player-view.ts';
import { startTestRelayFor } from '../helpers/relay.ts';

// Picture and sound, so each chunk of the FLV response gives mpegts.js more than one segment to hand on.
const relay = await startTestRelayFor(t, `WebRTC no
<Camera cam>
  Source testsrc://?size=320x240&rate=10&audio=aac
</Camera>
<Stream cam.flv>
  Feed cam
  VideoFrameRate 10
  VideoSize 320x240
  VideoBitRate 300
</Stream>
`);

/** How many appends the page's next SourceBuffer.appendBuffer calls refuse, as a browser does after a media error. */
type Refusing = { refuseAppends: number };

t.test('an MSE error in the middle of an append rebuilds the FLV player without an uncaught error', async (t) => {
  // Guards the teardown race of mpegts.js#63: the player destroyed mpegts.js inside its ERROR handler, and what
  // mpegts.js still had to do after the handler (the rest of the append, its deferred emits) threw
  // "Cannot read properties of null (reading 'emit')" into the page.
  const browser = await launchChromiumFor(t);
  const { context, problems } = await watchedContext(browser);
  await context.addInitScript(() => {
    const page = window as unknown as Refusing;
    page.refuseAppends = 0;
    const append = SourceBuffer.prototype.appendBuffer;
    SourceBuffer.prototype.appendBuffer = function (data: BufferSource) {
      if (page.refuseAppends > 0) {
        page.refuseAppends--;
        throw new DOMException('the source buffer was removed', 'InvalidStateError');
      }
      append.call(this, data);
    };
  });
  const page = await context.newPage();
  let uncaught = 0;
  page.on('pageerror', () => uncaught++);
  await page.goto(`${relay.baseUrl}/player/cam.flv`);
  await advances(page, 2, 30_000);
  const before = await playerView(page);
  const rounds = 3;
  for (let round = 1; round <= rounds; round++) {
    await page.evaluate(() => { (window as unknown as Refusing).refuseAppends = 1; });
    const resumed = await advances(page, 1, 30_000);
    t.equal(resumed.rebuilds, before.rebuilds + round, `refused append ${round}: one rebuild, and playing again`);
  }
  t.equal(uncaught, 0, 'no uncaught error in the page');
  t.same(problems, [], 'no console errors either');
});
