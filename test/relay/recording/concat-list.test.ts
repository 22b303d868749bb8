// Guards: a segment whose first frames came in a burst (an encoder start) overlapped the next one in the index, and /record/get played those seconds twice.
import t from 'tap';
import { concatList } from '../../../relay/recording/export.ts';
import type { Segment } from '../../../relay/recording/segment-index.ts';

const segment = (path: string, start: number, end: number): Segment => ({ camera: 'cam', start, end, bytes: 1, path, open: false });

t.test('an overlapping segment is cut where the next one starts', async (t) => {
  const list = concatList('/rec', [segment('a.mp4', 10_000, 21_200), segment('b.mp4', 20_000, 30_000)], 11_000, 28_000);
  t.same(list.split('\n'), [
    'ffconcat version 1.0',
    "file '/rec/a.mp4'", 'inpoint 1.000', 'outpoint 10.000',
    "file '/rec/b.mp4'", 'outpoint 8.000',
    '',
  ]);
});

t.test('segments that meet or leave a gap are played whole', async (t) => {
  const list = concatList('/rec', [segment('a.mp4', 0, 10_000), segment('b.mp4', 12_000, 20_000)], 0, 20_000);
  t.same(list.split('\n'), ['ffconcat version 1.0', "file '/rec/a.mp4'", "file '/rec/b.mp4'", '']);
});
