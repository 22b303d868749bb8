import t from 'tap';
import { ControlQueue, type LeaveReason, type QueueEntry } from '../../../relay/control/queue.ts';

function makeQueue(overrides: Partial<ConstructorParameters<typeof ControlQueue>[0]> = {}) {
  let now = 1_000_000;
  const left: Array<[string, LeaveReason]> = [];
  const granted: string[] = [];
  const queue = new ControlQueue(
    { holdMs: 30_000, maxHoldMs: 60_000, idleMs: 10_000, maxQueue: 3, maxPerAddress: 2, ...overrides },
    (entry, reason) => left.push([entry.label, reason]),
    (entry) => granted.push(entry.label),
    () => now,
  );
  const join = (address = '10.0.0.1'): QueueEntry => {
    const entry = queue.join(address);
    if (typeof entry === 'string') throw new Error(entry);
    entry.connected = true;
    return entry;
  };
  return { queue, left, granted, join, advance: (ms: number) => { now += ms; queue.tick(); } };
}

t.test('first come, first served; the hold ends at its time when others wait', async (t) => {
  const { queue, join, advance, left, granted } = makeQueue();
  const a = join('10.0.0.1');
  const b = join('10.0.0.2');
  t.same([queue.view(a.id)?.position, queue.view(b.id)?.position], [0, 1]);
  advance(8_000);
  queue.touch(a.id);
  advance(8_000);
  queue.touch(a.id);
  advance(8_000);
  queue.touch(a.id);
  // Activity renews the hold: 24 s in, it ends 30 s after the last command, never past 60 s.
  t.ok(queue.isHolder(a.id));
  advance(8_000);
  queue.touch(a.id);
  advance(8_000);
  queue.touch(a.id);
  advance(8_000);
  queue.touch(a.id);
  advance(8_000);
  t.equal(queue.holder?.label, 'viewer 1', '56 s: still within the maximum');
  queue.touch(a.id);
  advance(4_000);
  t.same(left, [['viewer 1', 'time']], 'the maximum hold (60 s) is reached with someone waiting');
  t.same(granted, ['viewer 1', 'viewer 2']);
  t.same(queue.view(b.id)?.timeLeftMs, 30_000);
});

t.test('nobody waiting: an active holder keeps control past its time; an idle one loses it', async (t) => {
  const { queue, join, advance, left } = makeQueue();
  const a = join();
  for (let i = 0; i < 10; i++) {
    advance(9_000);
    queue.touch(a.id);
  }
  t.ok(queue.isHolder(a.id), '90 s of activity with nobody waiting');
  advance(10_000);
  t.same(left, [['viewer 1', 'idle']]);
  t.equal(queue.size, 0);
});

t.test('bounds: queue length and places per address; entries that never connect are dropped', async (t) => {
  const { queue, join, advance, left } = makeQueue();
  join('10.0.0.1');
  join('10.0.0.1');
  t.equal(queue.join('10.0.0.1'), 'address');
  join('10.0.0.2');
  t.equal(queue.join('10.0.0.3'), 'full');
  const ghost = makeQueue();
  const entry = ghost.queue.join('10.0.0.9') as QueueEntry;
  ghost.advance(10_000);
  t.same(ghost.left, [['viewer 1', 'never-connected']]);
  t.equal(ghost.queue.find(entry.id), undefined);
  t.same(left, []);
});

t.test('the operator takes over, locks, and hands back', async (t) => {
  const { queue, join, advance } = makeQueue();
  const a = join();
  const b = join('10.0.0.2');
  const operator = queue.takeOver('10.0.0.100');
  t.same([queue.view(operator.id)?.position, queue.view(a.id)?.position, queue.view(b.id)?.position], [0, 1, 2], 'the viewer holding control goes back to the head');
  advance(120_000);
  t.ok(queue.isHolder(operator.id), 'the operator has no time limit');
  queue.setLocked(true);
  queue.leave(operator.id, 'left');
  t.equal(queue.holder, undefined, 'locked: no viewer gets control');
  queue.setLocked(false);
  t.ok(queue.isHolder(a.id));
  queue.setLocked(true);
  t.equal(queue.holder, undefined, 'locking takes control from a viewer');
  t.equal(queue.view(a.id)?.position, 1);
});
