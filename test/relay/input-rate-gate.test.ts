// Guards InputFrameRate dropping the on-time frame after every late one (a 10 fps camera at InputFrameRate 10 kept 8).
import t from 'tap';
import { InputRateGate } from '../../relay/core/timeline.ts';

function kept(times: readonly number[], rate: number): number[] {
  const gate = new InputRateGate();
  return times.filter((time) => gate.admit(time, rate));
}

t.test('a camera at the InputFrameRate keeps every frame, however late some arrive within an interval', async (t) => {
  const times = Array.from({ length: 100 }, (_, i) => i * 100 + (i % 5 === 2 ? 80 : 0));
  t.equal(kept(times, 10).length, 100);
});

t.test('a 25 fps camera at InputFrameRate 10 keeps 10 frames a second', async (t) => {
  const times = Array.from({ length: 250 }, (_, i) => i * 40);
  const count = kept(times, 10).length;
  t.ok(count >= 99 && count <= 101, `${count} frames of 250 in 10 s`);
});

t.test('after an outage the frames that arrive together are not let through as a burst', async (t) => {
  // 25 fps, then 1 s without frames, then that second's frames all at once, then 25 fps again.
  const before = Array.from({ length: 25 }, (_, i) => i * 40);
  const burst = Array.from({ length: 25 }, (_, i) => 2000 + i * 0.5);
  const after = Array.from({ length: 25 }, (_, i) => 2040 + i * 40);
  const times = kept([...before, ...burst, ...after], 10);
  const inBurst = times.filter((time) => time >= 2000 && time < 2020);
  t.equal(inBurst.length, 1, `one frame of the burst kept: ${inBurst.join(' ')}`);
});
