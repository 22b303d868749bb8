import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { fetchBytes, openViewer, waitFor } from '../../helpers/probe.ts';
import { startTestRelayFor } from '../../helpers/relay.ts';

const run = promisify(execFile);

// Guards: the first HLS segment of a camera with sound was silent and the second a discontinuity (ffprobe crashed on it).
t.test('a camera with sound already playing: the first FLV viewer, HLS and LL-HLS segments carry it, with no discontinuity', async (t) => {
  const relay = await startTestRelayFor(t, `
<Camera tone>
  Source testsrc://?size=160x120&rate=10&audio=aac
</Camera>
<Stream tone.flv>
  Feed tone
  VideoFrameRate 10
  VideoBitRate 100
</Stream>
<Stream tone.m3u8>
  Feed tone
  VideoFrameRate 10
  VideoBitRate 100
  HLSSegmentTime 1
</Stream>
<Stream tone-ll.m3u8>
  Feed tone
  VideoFrameRate 10
  VideoBitRate 100
  HLSSegmentTime 1
  LowLatency yes
</Stream>
`);
  // An FLV viewer starts the camera and its sound first: the HLS packagers then begin on the encoder's kept group.
  const viewer = await openViewer(`${relay.baseUrl}/tone.flv`);
  t.teardown(() => viewer.close());
  await waitFor(() => viewer.bytes > 20_000, 20_000, 'the FLV stream plays');
  // Guards: the first FLV viewer of a camera with sound got a header announcing no sound (mpegts.js then ignores it).
  t.equal(viewer.head[4]! & 0x05, 0x05, 'the first FLV viewer\'s header announces picture and sound');
  const playlists: Record<string, string> = {};
  await waitFor(async () => {
    for (const path of ['/tone.m3u8', '/tone-ll.m3u8']) {
      const { status, body } = await fetchBytes(`${relay.baseUrl}${path}`);
      playlists[path] = status === 200 ? body.toString() : '';
    }
    return Object.values(playlists).every((text) => (text.match(/^#EXTINF/gm) ?? []).length >= 2);
  }, 30_000, 'two segments in each playlist');
  for (const [path, playlist] of Object.entries(playlists)) {
    t.match(playlist, /#EXT-X-MEDIA-SEQUENCE:0\n/, `${path}: still lists its first segment`);
    t.notMatch(playlist, /#EXT-X-DISCONTINUITY\n/, `${path}: no discontinuity`);
  }
  const first = playlists['/tone.m3u8']!.split('\n').find((line) => line && !line.startsWith('#'))!;
  const segment = join(tmpdir(), `sound-from-start-${process.pid}.ts`);
  await writeFile(segment, (await fetchBytes(`${relay.baseUrl}/${first}`)).body);
  const { stdout } = await run('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_name', '-of', 'csv=p=0', segment]);
  t.same([...new Set(stdout.split('\n').filter(Boolean))].sort(), ['aac', 'h264'], 'the first MPEG-TS segment has picture and sound');
  const init = /#EXT-X-MAP:URI="([^"]+)"/.exec(playlists['/tone-ll.m3u8']!)?.[1];
  t.ok(init, 'LL-HLS names its init segment');
  const initBytes = (await fetchBytes(`${relay.baseUrl}/${init}`)).body;
  t.ok(initBytes.includes(Buffer.from('mp4a')), 'the first LL-HLS init segment has the AAC track');
});
