import t from 'tap';
import { KeptGroup } from '../../../relay/core/hub.ts';

t.test('keeps from the last keyframe on, within its frame and byte bounds', async (t) => {
  const group = new KeptGroup<string>(3, 100);
  group.add('p0', false, 10);
  t.same(group.frames, [], 'nothing before the first keyframe');
  group.add('k1', true, 10);
  group.add('p1', false, 10);
  t.same(group.frames, ['k1', 'p1']);
  group.add('p2', false, 10);
  group.add('p3', false, 10);
  t.same(group.frames, ['k1', 'p1', 'p2'], 'no more than 3 frames');
  group.add('k2', true, 60);
  group.add('p4', false, 50);
  t.same(group.frames, ['k2'], 'no more than 100 bytes');
  group.add('k3', true, 500);
  t.same(group.frames, [], 'a keyframe larger than the bound is not kept, and nothing after it');
  group.add('p5', false, 1);
  t.same(group.frames, []);
  group.add('k4', true, 1);
  group.clear();
  t.same(group.frames, []);
});
