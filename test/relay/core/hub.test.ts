import t from 'tap';
import { Hub, KEPT_GROUP_MAX_BYTES, KEPT_GROUP_MAX_FRAMES } from '../../../relay/core/hub.ts';

interface Item {
  readonly name: string;
  readonly keyframe: boolean;
  readonly bytes: number;
}

function hub(options: { errors?: Error[]; acquires?: boolean[]; lasts?: number[] } = {}): Hub<Item> {
  return new Hub<Item>({
    keyframe: (item) => item.keyframe,
    size: (item) => item.bytes,
    onSubscriberError: (error) => options.errors?.push(error),
    onAcquire: (first) => options.acquires?.push(first),
    onLast: () => options.lasts?.push(1),
  });
}

const key = (name: string, bytes = 10): Item => ({ name, keyframe: true, bytes });
const delta = (name: string, bytes = 10): Item => ({ name, keyframe: false, bytes });

t.test('a subscriber that throws is reported and removed; the others still get every item', async (t) => {
  const errors: Error[] = [];
  const items = hub({ errors });
  const before: string[] = [];
  const after: string[] = [];
  let thrown = 0;
  items.subscribe((item) => before.push(item.name));
  items.subscribe(() => {
    thrown++;
    throw new Error('broken consumer');
  });
  items.subscribe((item) => after.push(item.name));
  items.publish(key('k1'));
  items.publish(delta('p1'));
  t.same(before, ['k1', 'p1'], 'the subscriber before the failing one got both items');
  t.same(after, ['k1', 'p1'], 'the subscriber after the failing one got both items');
  t.equal(thrown, 1, 'the failing subscriber was not called again');
  t.equal(errors.length, 1);
  t.equal(errors[0]!.message, 'broken consumer');
  t.equal(items.subscriberCount, 2);
});

t.test('a thrown non-Error is reported as an Error', async (t) => {
  const errors: Error[] = [];
  const items = hub({ errors });
  items.subscribe(() => {
    throw 'text';
  });
  items.publish(key('k1'));
  t.type(errors[0], Error);
  t.equal(errors[0]!.message, 'text');
});

t.test('unsubscribing stops delivery and is safe twice', async (t) => {
  const items = hub();
  const got: string[] = [];
  const listener = (item: Item): void => void got.push(item.name);
  const unsubscribe = items.subscribe(listener);
  items.publish(key('k1'));
  unsubscribe();
  unsubscribe();
  items.publish(delta('p1'));
  t.same(got, ['k1']);
  t.equal(items.unsubscribe(listener), false, 'already gone');
});

t.test('keeps the group from the last keyframe on, within the one frame bound', async (t) => {
  const items = hub();
  items.publish(delta('p0'));
  t.same(items.groupOfPictures, [], 'nothing before the first keyframe');
  t.equal(items.latest?.name, 'p0', 'the newest item is known even when not kept');
  items.publish(key('k1', 1));
  for (let i = 0; i < KEPT_GROUP_MAX_FRAMES + 50; i++) items.publish(delta(`p${i}`, 1));
  t.equal(items.groupOfPictures.length, KEPT_GROUP_MAX_FRAMES, `no more than ${KEPT_GROUP_MAX_FRAMES} frames`);
  t.equal(items.groupOfPictures[0]!.name, 'k1');
  items.publish(key('k2', 1));
  t.same(items.groupOfPictures.map((item) => item.name), ['k2'], 'a keyframe starts a new group');
});

t.test('keeps the group within the one byte bound', async (t) => {
  const items = hub();
  const half = KEPT_GROUP_MAX_BYTES / 2;
  items.publish(key('k1', half));
  items.publish(delta('p1', half));
  items.publish(delta('p2', 1));
  t.same(items.groupOfPictures.map((item) => item.name), ['k1', 'p1'], 'the frame past the byte bound is not kept');
  items.publish(key('huge', KEPT_GROUP_MAX_BYTES + 1));
  items.publish(delta('p3', 1));
  t.same(items.groupOfPictures, [], 'a keyframe larger than the bound is not kept, nor what follows it');
  items.publish(key('k2'));
  items.reset();
  t.same(items.groupOfPictures, [], 'reset forgets the group');
  t.equal(items.latest, undefined, 'and the newest item');
});

t.test('acquire counts holders: the first and the last are told, each release works once', async (t) => {
  const acquires: boolean[] = [];
  const lasts: number[] = [];
  const items = hub({ acquires, lasts });
  const releaseA = items.acquire();
  const releaseB = items.acquire();
  t.same(acquires, [true, false], 'every acquire is told, the first as first');
  t.equal(items.holders, 2);
  releaseA();
  releaseA();
  t.equal(items.holders, 1, 'a second call of the same release changes nothing');
  t.same(lasts, []);
  releaseB();
  t.equal(items.holders, 0);
  t.same(lasts, [1], 'the last release is told once');
  const releaseC = items.acquire();
  t.same(acquires, [true, false, true], 'a holder after all left is first again');
  releaseC();
  t.same(lasts, [1, 1]);
});
