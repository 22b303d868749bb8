import { EventEmitter } from 'node:events';
import t from 'tap';
import { Viewer } from '../../relay/core/viewer.ts';

/** A byte sink (what a socket or file stream offers a Viewer), with a queue length the test controls. */
class FakeResponse extends EventEmitter {
  written: Buffer[] = [];
  destroyed = false;
  writableLength = 0;
  write(bytes: Buffer): boolean {
    this.written.push(bytes);
    return true;
  }
  destroy(): void {
    this.destroyed = true;
    this.emit('close');
  }
  end(): void {
    this.emit('close');
  }
}

const limits = { budgetBytes: 1000, hardLimitBytes: 5000, writeTimeoutMs: 100 };
const frame = (name: string): Buffer => Buffer.from(name);

function viewer(): { response: FakeResponse; viewer: Viewer } {
  const response = new FakeResponse();
  return { response, viewer: new Viewer(response, limits) };
}

t.test('over budget, frames drop until the next keyframe, then the viewer resumes there', async (t) => {
  const { response, viewer: v } = viewer();
  t.ok(v.send(frame('K1'), true));
  t.ok(v.send(frame('P1'), false));
  response.writableLength = 1500;
  t.notOk(v.send(frame('P2'), false), 'dropped over budget');
  response.writableLength = 0;
  t.notOk(v.send(frame('P3'), false), 'still dropped: a P-frame without its keyframe cannot be decoded');
  t.ok(v.send(frame('K2'), true), 'resumes at the keyframe');
  t.ok(v.send(frame('P4'), false));
  t.same(response.written.map(String), ['K1', 'P1', 'K2', 'P4']);
  t.equal(v.drops, 2);
});

t.test('past the hard limit the viewer is disconnected', async (t) => {
  const { response, viewer: v } = viewer();
  response.writableLength = 6000;
  t.notOk(v.send(frame('K'), true));
  t.ok(response.destroyed);
  t.ok(v.closed);
  t.notOk(v.send(frame('K'), true), 'a closed viewer takes nothing');
});

t.test('a socket that takes no byte for writeTimeoutMs while bytes wait is disconnected', async (t) => {
  const { response, viewer: v } = viewer();
  const start = Date.now();
  response.writableLength = 10;
  t.notOk(v.checkStalled(start), 'first look records progress');
  response.writableLength = 5;
  t.notOk(v.checkStalled(start + 90), 'the queue shrank: progress resets the clock');
  t.notOk(v.checkStalled(start + 150), 'not yet 100 ms since progress');
  t.ok(v.checkStalled(start + 200), 'stalled');
  t.ok(response.destroyed);
});

t.test('an idle but healthy viewer (nothing queued) is never called stalled', async (t) => {
  const { viewer: v } = viewer();
  t.notOk(v.checkStalled(Date.now() + 60_000));
  let closes = 0;
  v.onClose(() => closes++);
  v.disconnect();
  v.disconnect();
  t.equal(closes, 1, 'close callbacks run once');
});
