import t from 'tap';
import { INPUT_PAUSE_MS, OUTPUT_STALL_MS, StallClock } from '../../../relay/encoders/stall-clock.ts';

// Guards: an encoder was restarted for "no output for 20 s while fed" right after a camera outage ended: the frame
// its rate filter held when the camera went quiet started a clock that ran on through the whole outage.
t.test('a camera outage is not counted against the encoder', async (t) => {
  const clock = new StallClock();
  clock.fed(0); // the last frame before the outage, held by the encoder: no output follows
  for (let now = 1000; now <= 25_000; now += 1000) t.notOk(clock.stalled(now), `not stalled during the outage at ${now} ms`);
  clock.fed(25_000); // the camera is back
  t.notOk(clock.stalled(25_500), 'not stalled right after the outage');
  clock.answered();
  t.notOk(clock.stalled(26_000));
});

t.test('fed without pause and silent for OUTPUT_STALL_MS is stuck; any output resets it', async (t) => {
  const clock = new StallClock();
  let now = 0;
  for (; now < OUTPUT_STALL_MS; now += 100) {
    clock.fed(now);
    t.notOk(clock.stalled(now));
  }
  clock.fed(now);
  t.ok(clock.stalled(now), 'stuck after being fed for the whole stall limit');
  clock.answered();
  t.notOk(clock.stalled(now), 'output clears it');
  clock.fed(now + 100);
  t.notOk(clock.stalled(now + 100 + INPUT_PAUSE_MS / 2));
});
