import t from 'tap';
import type { HlsPackager, HlsSegment } from '../../../relay/hls/packager.ts';
import { renderLowLatencyPlaylist, renderPlaylist } from '../../../relay/hls/playlist.ts';

const segment = (sequence: number, discontinuitySequence: number, discontinuity: boolean): HlsSegment => ({
  sequence, name: `s${sequence}.ts`, discontinuitySequence, discontinuity, init: undefined, parts: [], duration: 2, frames: 20, data: Buffer.alloc(0), createdAt: 0,
});

/** A packager as the playlists read it, listing `listed`. */
const packagerListing = (listed: HlsSegment[]): HlsPackager => ({
  listed, open: segment(99, 9, false), maxSegmentSeconds: 2, options: { segmentSeconds: 2, partSeconds: 0.5 },
}) as unknown as HlsPackager;

/** Each listed segment's discontinuity number as a client counts it (RFC 8216 6.2.2): the sequence plus tags so far. */
function discontinuityNumbers(playlist: string): Map<string, number> {
  let number = Number(/#EXT-X-DISCONTINUITY-SEQUENCE:(\d+)/.exec(playlist)![1]);
  const numbers = new Map<string, number>();
  for (const line of playlist.split('\n')) {
    if (line === '#EXT-X-DISCONTINUITY') number++;
    else if (line && !line.startsWith('#')) numbers.set(line, number);
  }
  return numbers;
}

// Guards: once the segment after a discontinuity became the first listed, its number went back by one (the tag was
// dropped and the sequence lowered too), so players matched it with the segments before the discontinuity.
t.test('a segment keeps its discontinuity number as the playlist slides past the discontinuity', async (t) => {
  const all = [segment(0, 0, false), segment(1, 1, true), segment(2, 1, false), segment(3, 2, true), segment(4, 2, false)];
  for (const render of [renderPlaylist, renderLowLatencyPlaylist]) {
    const seen = new Map<string, number>();
    for (let start = 0; start < all.length - 1; start++) {
      for (const [name, number] of discontinuityNumbers(render(packagerListing(all.slice(start, start + 3)))!)) {
        if (seen.has(name)) t.equal(number, seen.get(name), `${render.name}: ${name} from the window starting at ${start}`);
        seen.set(name, number);
      }
    }
    t.same([...seen.values()], [0, 1, 1, 2, 2], `${render.name}: the numbers the packager gave`);
  }
});
