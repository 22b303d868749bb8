import t from 'tap';
import { waitFor } from '../../helpers/probe.ts';
import { startTestRelay } from '../../helpers/relay.ts';

const CONFIG = `
<Camera test>
  Source testsrc://?size=160x120&rate=10
</Camera>
<Stream test.m3u8>
  Feed test
  VideoFrameRate 10
  VideoBitRate 100
  HLSSegmentTime 1
</Stream>
<Stream ll.m3u8>
  Feed test
  VideoFrameRate 10
  VideoBitRate 100
  HLSSegmentTime 1
  LowLatency yes
</Stream>
`;

/** Every URI a playlist names: segments, parts, init segments, the preload hint. */
const names = (playlist: string): string[] => [
  ...playlist.split('\n').filter((line) => line && !line.startsWith('#')),
  ...[...playlist.matchAll(/URI="([^"]+)"/g)].map((match) => match[1]!),
];

/** Runs a relay until both playlists list two segments; returns every name they gave out meanwhile. */
async function namesOfOneRun(): Promise<Set<string>> {
  const relay = await startTestRelay(CONFIG);
  const seen = new Set<string>();
  try {
    await waitFor(async () => {
      let segments = 0;
      for (const path of ['/test.m3u8', '/ll.m3u8']) {
        const response = await fetch(`${relay.baseUrl}${path}`);
        if (response.status !== 200) return false;
        const text = await response.text();
        for (const name of names(text)) seen.add(name);
        segments += text.split('\n').filter((line) => /\.(ts|m4s)$/.test(line)).length;
      }
      return segments >= 4;
    }, 40_000, 'two segments on each playlist');
  } finally {
    await relay.stop();
  }
  return seen;
}

t.test('a restarted relay never gives out a name an earlier run gave out', async (t) => {
  // Guards against caches serving an old run's media: names used to restart at seg000000.ts with every relay start.
  const first = await namesOfOneRun();
  const second = await namesOfOneRun();
  t.ok(first.size >= 6 && second.size >= 6, `${first.size} and ${second.size} names`);
  const shared = [...second].filter((name) => first.has(name));
  t.same(shared, [], 'no name in common');
  t.ok([...first].some((name) => /\/[0-9a-z]+-0\.ts$/.test(name)) && [...second].some((name) => /\/[0-9a-z]+-0\.ts$/.test(name)),
    'both runs start at media sequence 0, and still differ');
});
