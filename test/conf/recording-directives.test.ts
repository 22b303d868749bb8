import t from 'tap';
import { ConfigError, parseConfig } from '../../conf/parse.ts';

const parse = (text: string) => parseConfig(text, 'relay.conf', { schemes: ['testsrc', 'http'] });

t.test('recording defaults: off, 60 s segments, keep everything, 1 GiB free, 3600 s per request', async (t) => {
  const { config } = parse('<Camera cam>\n  Source testsrc://\n</Camera>\n');
  t.same(config.recording, { path: './recordings', maxTotalBytes: 0, minFreeBytes: 1024 ** 3, maxRequestSeconds: 3600 });
  t.same(config.cameras[0]!.record, {
    enabled: false, frameRate: 0, size: undefined, bitRate: 1000, codec: 'libx264', segmentSeconds: 60, deleteAfterMs: 0, maxBytes: 0,
    archive: undefined, localKeepMs: 0,
  });
});

t.test('recording values parse, with size and duration units', async (t) => {
  const { config } = parse(`RecordPath /var/lib/relay/recordings
RecordMaxTotalSize 2T
RecordMinFreeSpace 500M
RecordMaxRequestSeconds 600
<Camera cam>
  Source testsrc://
  Record yes
  RecordFrameRate 5
  RecordSize vga
  RecordBitRate 400
  RecordSegmentSeconds 30
  RecordDeleteAfter 7d
  RecordMaxSize 20G
</Camera>
<Camera door>
  Source testsrc://
  Record on
  RecordCodec copy
  RecordDeleteAfter 12h
</Camera>
`);
  t.same(config.recording, { path: '/var/lib/relay/recordings', maxTotalBytes: 2 * 1024 ** 4, minFreeBytes: 500 * 1024 ** 2, maxRequestSeconds: 600 });
  t.same(config.cameras[0]!.record, {
    enabled: true, frameRate: 5, size: { width: 640, height: 480 }, bitRate: 400, codec: 'libx264', segmentSeconds: 30,
    deleteAfterMs: 7 * 86_400_000, maxBytes: 20 * 1024 ** 3, archive: undefined, localKeepMs: 0,
  });
  t.equal(config.cameras[1]!.record.codec, 'copy');
  t.equal(config.cameras[1]!.record.deleteAfterMs, 12 * 3_600_000);
});

const BAD: Array<[string, string, string]> = [
  ['Record not a boolean', '  Record maybe', 'relay.conf:3: Record: "maybe" is not yes or no'],
  ['RecordFrameRate negative', '  RecordFrameRate -5', 'relay.conf:3: RecordFrameRate: "-5" is not a number'],
  ['RecordSize odd', '  RecordSize 641x480', 'relay.conf:3: RecordSize: 641x480: width and height must be even'],
  ['RecordBitRate too low', '  RecordBitRate 1', 'relay.conf:3: RecordBitRate: 1 is out of range (16 to 100000)'],
  ['RecordCodec unknown', '  RecordCodec vp9', 'relay.conf:3: RecordCodec: "vp9" is not one of libx264, copy'],
  ['RecordSegmentSeconds zero', '  RecordSegmentSeconds 0', 'relay.conf:3: RecordSegmentSeconds: 0 is out of range (2 to 3600)'],
  ['RecordDeleteAfter without a unit it knows', '  RecordDeleteAfter 7w', 'relay.conf:3: RecordDeleteAfter: "7w" is not a duration (e.g. 0, 90s, 30m, 12h, 7d)'],
  ['RecordDeleteAfter absurd', '  RecordDeleteAfter 999999999d', 'relay.conf:3: RecordDeleteAfter: 999999999d is out of range (at most 3650 days)'],
  ['RecordMaxSize with a unit it does not know', '  RecordMaxSize 20GB', 'relay.conf:3: RecordMaxSize: "20GB" is not a size (e.g. 0, 500M, 20G, 2T)'],
  ['RecordMaxSize negative', '  RecordMaxSize -1G', 'relay.conf:3: RecordMaxSize: "-1G" is not a size (e.g. 0, 500M, 20G, 2T)'],
  ['RecordSize with RecordCodec copy', '  RecordCodec copy\n  RecordSize vga', 'relay.conf:4: RecordSize: does not apply with RecordCodec copy (the camera\'s H.264 is recorded unchanged)'],
];
for (const [name, line, expected] of BAD) {
  t.test(`rejects: ${name}`, async (t) => {
    try {
      parse(`<Camera cam>\n  Source testsrc://\n${line}\n</Camera>\n`);
      t.fail('accepted');
    } catch (error) {
      t.type(error, ConfigError);
      const messages = (error as ConfigError).problems.map((p) => `${p.file}:${p.line}: ${p.message}`);
      t.ok(messages.includes(expected), `expected "${expected}" in:\n${messages.join('\n')}`);
    }
  });
}

const GLOBAL_BAD: Array<[string, string]> = [
  ['RecordMaxTotalSize lots', 'RecordMaxTotalSize 99999999999999T'],
  ['RecordMinFreeSpace words', 'RecordMinFreeSpace plenty'],
  ['RecordMaxRequestSeconds zero', 'RecordMaxRequestSeconds 0'],
  ['RecordPath twice the values', 'RecordPath /a /b'],
];
for (const [name, line] of GLOBAL_BAD) {
  t.test(`rejects: ${name}`, async (t) => {
    const directive = line.split(' ')[0]!;
    try {
      parse(`${line}\n<Camera cam>\n  Source testsrc://\n</Camera>\n`);
      t.fail('accepted');
    } catch (error) {
      t.type(error, ConfigError);
      const problems = (error as ConfigError).problems;
      t.ok(problems.some((p) => p.line === 1 && p.message.startsWith(`${directive}: `)), JSON.stringify(problems));
    }
  });
}
