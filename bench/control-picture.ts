// Command to picture: from a viewer's goto (HTTP request to the relay) until a decoded frame of an output shows the
// camera's new position (the simulator draws it into its picture; see test/helpers/position-picture.ts).
import type { CanonControlCamera } from '../test/helpers/canon-control-camera.ts';
import { canonMarker, watchMarkers, type Marker, type SeenFrame } from '../test/helpers/position-picture.ts';
import { sleep } from './clock.ts';

type Post = (url: string, body: unknown) => Promise<{ status: number; json: Record<string, any> }>;

/** Where each output was last seen, for waiting on a marker from a given time on. */
class Watched {
  private readonly frames: SeenFrame[] = [];
  private readonly viewer: { close(): void };

  constructor(readonly label: string, url: string, format: 'mpjpeg' | 'flv') {
    this.viewer = watchMarkers(url, (frame) => {
      this.frames.push(frame);
      if (this.frames.length > 500) this.frames.splice(0, 250);
    }, format);
  }

  /** The first frame at or after `since` that shows `want`, or undefined after `timeoutMs`. */
  async shows(want: Marker, since: number, timeoutMs: number): Promise<SeenFrame | undefined> {
    const near = (marker: Marker | undefined): boolean => !!marker && Math.abs(marker.x - want.x) < 0.08 && Math.abs(marker.y - want.y) < 0.08 && Math.abs(marker.zoom - want.zoom) < 0.08;
    for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await sleep(5)) {
      const found = this.frames.find((frame) => frame.at >= since && near(frame.marker));
      if (found) return found;
    }
    return undefined;
  }

  close(): void {
    this.viewer.close();
  }
}

export interface PictureDelays {
  /** Milliseconds from the command to the first frame showing it, per output label; a missed one counts as the timeout. */
  readonly delays: Map<string, number[]>;
  readonly missed: Map<string, number>;
}

/**
 * Sends `commands` goto commands, each to a position far from the last, `gapMs` (plus up to 100 ms at random, so the
 * commands do not lock onto the frame clock) after the previous one was seen everywhere.
 */
export async function measurePicture(options: { camera: CanonControlCamera; api: string; id: string; post: Post; outputs: Record<string, [string, 'mpjpeg' | 'flv']>; commands: number; gapMs: number; timeoutMs: number }): Promise<PictureDelays> {
  const watched = Object.entries(options.outputs).map(([label, [url, format]]) => new Watched(label, url, format));
  const delays = new Map(watched.map((output) => [output.label, [] as number[]]));
  const missed = new Map(watched.map((output) => [output.label, 0]));
  try {
    // Every output shows the starting picture before the clock starts (the FLV encoder starts on demand).
    const start = canonMarker(options.camera);
    for (const output of watched) if (!(await output.shows(start, 0, 30_000))) throw new Error(`${output.label} never showed the picture`);
    const targets = [{ pan: -85, tilt: -40, zoom: 10 }, { pan: 85, tilt: 0, zoom: 40 }, { pan: 0, tilt: -80, zoom: 25 }];
    for (let i = 0; i < options.commands; i++) {
      const sent = performance.timeOrigin + performance.now();
      const reply = await options.post(`${options.api}/goto`, { id: options.id, ...targets[i % targets.length] });
      if (reply.status !== 200) throw new Error(`picture command ${i}: ${reply.status} ${JSON.stringify(reply.json)}`);
      const want = canonMarker(options.camera);
      const seen = await Promise.all(watched.map((output) => output.shows(want, sent, options.timeoutMs)));
      seen.forEach((frame, index) => {
        const label = watched[index]!.label;
        if (frame) delays.get(label)!.push(frame.at - sent);
        else missed.set(label, missed.get(label)! + 1);
      });
      await sleep(options.gapMs + Math.random() * 100);
    }
  } finally {
    for (const output of watched) output.close();
  }
  for (const list of delays.values()) list.sort((a, b) => a - b);
  return { delays, missed };
}
