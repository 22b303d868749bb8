// Guards the frame interval the encoder is told: measured from the camera's timestamps, outages left out.
import t from 'tap';
import { FrameIntervalMeter } from '../../relay/core/timeline.ts';

t.test('the mean of recent intervals, jitter averaged, an outage gap left out, unknown until three intervals', async (t) => {
  const meter = new FrameIntervalMeter();
  meter.add(0);
  meter.add(40);
  meter.add(80);
  t.equal(meter.intervalMs, undefined, 'two intervals are not enough');
  for (let i = 3; i < 30; i++) meter.add(i * 40 + (i % 2 ? 5 : -5));
  meter.add(30 * 40 + 10_000); // ten seconds of outage, then the camera is back
  for (let i = 31; i < 40; i++) meter.add(i * 40 + 10_000);
  t.ok(Math.abs(meter.intervalMs! - 40) < 1, `${meter.intervalMs} ms`);
});

t.test('a camera that changes its rate is followed within the window', async (t) => {
  const meter = new FrameIntervalMeter();
  for (let i = 0; i < 100; i++) meter.add(i * 40);
  for (let i = 1; i <= 60; i++) meter.add(99 * 40 + i * 100);
  t.equal(meter.intervalMs, 100);
});
