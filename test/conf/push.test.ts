import t, { type Test } from 'tap';
import { rejectsConfig } from '../helpers/config-rejects.ts';
import { parseConfig } from '../../conf/parse.ts';

const schemes = ['testsrc', 'push'];
const parse = (text: string) => parseConfig(text, 'relay.conf', { schemes });
const KEY = 'k3y-0f-the-p0rch-camera';
const OTHER_KEY = 'an0ther-key-for-the-porch';

/** Asserts that `text` is rejected with a problem reading exactly `expected`, and that no message shows a key. */
function rejects(t: Test, text: string, expected: string): void {
  const messages = rejectsConfig(t, text, expected, schemes).join('\n');
  for (const secret of [KEY, OTHER_KEY, 'short-key', 'has space']) t.notMatch(messages, secret, 'no key in the error');
}

t.test('push cameras: defaults, several PublishKey lines, FollowSSRC, RTPPortRange and PublishAddress', async (t) => {
  const defaults = parse(`<Camera porch>\n Source push://\n PublishKey ${KEY}\n</Camera>\n`).config;
  t.same(defaults.rtpPortRange, [30000, 30999]);
  t.equal(defaults.publishAddress, undefined);
  t.same(defaults.cameras[0]!.publishKeys, [KEY]);
  t.equal(defaults.cameras[0]!.followSsrc, false);
  t.equal(defaults.cameras[0]!.scheme, 'push');
  const { config } = parse(`RTPPortRange 40001-40100\nPublishAddress relay.example.net\n<Camera porch>\n Source push://\n PublishKey ${KEY}\n PublishKey ${OTHER_KEY}\n FollowSSRC yes\n</Camera>\n`);
  t.same(config.rtpPortRange, [40001, 40100]);
  t.equal(config.publishAddress, 'relay.example.net');
  t.same(config.cameras[0]!.publishKeys, [KEY, OTHER_KEY]);
  t.equal(config.cameras[0]!.followSsrc, true);
  t.ok(Object.isFrozen(config.cameras[0]!.publishKeys));
});

t.test('bad RTPPortRange values name the line and the directive', async (t) => {
  const camera = `<Camera porch>\n Source push://\n PublishKey ${KEY}\n</Camera>\n`;
  rejects(t, `RTPPortRange 30000\n${camera}`, 'relay.conf:1: RTPPortRange: "30000" is not a port range (e.g. 6970-6999)');
  rejects(t, `RTPPortRange 80-90\n${camera}`, 'relay.conf:1: RTPPortRange: 80-90 is out of range (1024 to 65535, first to last)');
  rejects(t, `RTPPortRange 65000-70000\n${camera}`, 'relay.conf:1: RTPPortRange: 65000-70000 is out of range (1024 to 65535, first to last)');
  rejects(t, `RTPPortRange 30001-30002\n${camera}`, 'relay.conf:1: RTPPortRange: 30001-30002 holds no even/odd port pair');
  rejects(t, `RTPPortRange 30010-30000\n${camera}`, 'relay.conf:1: RTPPortRange: 30010-30000 is out of range (1024 to 65535, first to last)');
  rejects(t, `RTPPortRange 30000-30010 30020-30030\n${camera}`, 'relay.conf:1: RTPPortRange: takes exactly one value, got 2');
});

t.test('bad PublishKey values are refused without echoing the key', async (t) => {
  const push = (lines: string) => `<Camera porch>\n Source push://\n${lines}</Camera>\n`;
  rejects(t, push(' PublishKey short-key\n'), 'relay.conf:3: PublishKey: a key needs at least 16 characters');
  rejects(t, push(` PublishKey ${'x'.repeat(300)}\n`), 'relay.conf:3: PublishKey: a key has at most 256 characters');
  rejects(t, push(' PublishKey "has space in the key"\n'), 'relay.conf:3: PublishKey: a key is printable ASCII without spaces');
  rejects(t, push(` PublishKey ${KEY} ${OTHER_KEY}\n`), 'relay.conf:3: PublishKey: takes exactly one key, got 2 values');
  rejects(t, push(''), 'relay.conf:1: <Camera porch>: a push:// camera needs at least one PublishKey (the secret its publisher presents)');
  rejects(t, `${push(` PublishKey ${KEY}\n`)}<Camera yard>\n Source push://\n PublishKey ${KEY}\n</Camera>\n`,
    'relay.conf:7: PublishKey: the same key is already given to <Camera porch>; each key names one camera');
  rejects(t, push(` PublishKey ${KEY}\n FollowSSRC maybe\n`), 'relay.conf:4: FollowSSRC: "maybe" is not yes or no');
});

t.test('PublishKey and FollowSSRC belong to push cameras, PublishAddress to the global section', async (t) => {
  rejects(t, `<Camera test>\n Source testsrc://\n PublishKey ${KEY}\n</Camera>\n`, 'relay.conf:3: PublishKey: applies to push:// cameras only (<Camera test> is testsrc://)');
  rejects(t, '<Camera test>\n Source testsrc://\n FollowSSRC yes\n</Camera>\n', 'relay.conf:3: FollowSSRC: applies to push:// cameras only (<Camera test> is testsrc://)');
  rejects(t, `<Camera porch>\n Source push://\n PublishKey ${KEY}\n PublishAddress 10.0.0.1\n</Camera>\n`,
    'relay.conf:4: PublishAddress: not allowed in a <Camera> block; it belongs in the global section');
});
