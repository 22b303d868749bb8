import t from 'tap';
import { ConfigError, parseConfig } from '../../conf/parse.ts';

const parse = (text: string) => parseConfig(text, 'relay.conf', { schemes: ['testsrc'] });
const camera = '<Camera cam>\n  Source testsrc://\n</Camera>\n';

function problems(text: string): string[] {
  try {
    parse(text);
    return [];
  } catch (error) {
    return (error as ConfigError).problems.map((p) => `${p.file}:${p.line}: ${p.message}`);
  }
}

t.test('Audio: default yes for flv and hls, no when asked or where ffserver\'s NoAudio is given, never for MJPEG', async (t) => {
  const { config } = parse(`${camera}<Stream a.flv>\n Feed cam\n</Stream>\n<Stream b.m3u8>\n Feed cam\n Audio no\n</Stream>\n`
    + '<Stream c.flv>\n Feed cam\n NoAudio\n</Stream>\n<Stream d.flv>\n Feed cam\n NoAudio no\n</Stream>\n<Stream e.mjpg>\n Feed cam\n</Stream>\n');
  t.same(config.streams.map((stream) => [stream.name, stream.audio]), [['a.flv', true], ['b.m3u8', false], ['c.flv', false], ['d.flv', true], ['e.mjpg', false]]);
});

t.test('Audio: bad values and video-only formats are errors naming file:line and the directive', async (t) => {
  t.same(problems(`${camera}<Stream a.flv>\n Feed cam\n Audio loud\n</Stream>\n`), ['relay.conf:6: Audio: "loud" is not yes or no']);
  t.same(problems(`${camera}<Stream a.mjpg>\n Feed cam\n Audio yes\n</Stream>\n`), ['relay.conf:6: Audio: applies to flv and hls streams only (MJPEG and JPEG carry no sound)']);
});
