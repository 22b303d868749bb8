import t from 'tap';
import { ConfigError, parseConfig } from '../../conf/parse.ts';

const parse = (text: string) => parseConfig(text, 'relay.conf', { schemes: ['testsrc'] });
const camera = '<Camera cam>\n  Source testsrc://\n</Camera>\n';

/** The problems a config is rejected with, as `file:line: message`. */
function problems(text: string): string[] {
  try {
    parse(text);
    return [];
  } catch (error) {
    return (error as ConfigError).problems.map((p) => `${p.file}:${p.line}: ${p.message}`);
  }
}

t.test('LowLatency: default no, yes for HLS streams', async (t) => {
  const { config } = parse(`${camera}<Stream a.m3u8>\n Feed cam\n</Stream>\n<Stream b.m3u8>\n Feed cam\n LowLatency yes\n</Stream>\n`);
  t.same(config.streams.map((stream) => stream.lowLatency), [false, true]);
});

t.test('LowLatency: bad values and other formats are errors naming file:line and the directive', async (t) => {
  t.same(problems(`${camera}<Stream a.m3u8>\n Feed cam\n LowLatency maybe\n</Stream>\n`), ['relay.conf:6: LowLatency: "maybe" is not yes or no']);
  t.same(problems(`${camera}<Stream a.m3u8>\n Feed cam\n LowLatency\n</Stream>\n`).length, 1, 'a missing value');
  t.same(problems(`${camera}<Stream a.flv>\n Feed cam\n LowLatency yes\n</Stream>\n`), ['relay.conf:6: LowLatency: applies to Format hls only']);
  t.match(problems(`${camera}<Stream a.mjpg>\n Feed cam\n LowLatency yes\n</Stream>\n`).join('\n'), /relay\.conf:6: LowLatency: does not apply to Format mpjpeg/);
});

t.test('HLSDirectory is no longer used: accepted with a warning', async (t) => {
  const { warnings } = parse(`HLSDirectory /var/lib/relay/hls\n${camera}<Stream a.m3u8>\n Feed cam\n</Stream>\n`);
  t.same(warnings.map((w) => `${w.file}:${w.line}: ${w.message}`), ['relay.conf:1: HLSDirectory: no longer used (HLS is packaged in memory); ignored']);
});
