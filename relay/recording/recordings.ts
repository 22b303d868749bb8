import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { RelayConfig } from '../../conf/types.ts';
import type { Logger } from '../log.ts';
import type { Relay } from '../relay.ts';
import { CameraRecorder } from './recorder.ts';
import { Retention, statfsFreeSpace, type FreeSpace } from './retention.ts';
import { SegmentIndex } from './segment-index.ts';
import { recordingSource, type RecordingSource } from './source.ts';

/** How often retention runs besides before each new segment, ms. */
const RETENTION_INTERVAL_MS = 2000;

/** Every running relay's recordings, for the routes, pages, status and metrics that are handed only the relay. */
const byRelay = new WeakMap<Relay, Recordings>();

/** The recordings of a relay, if startRecordings ran for it. */
export function recordingsOf(relay: Relay): Recordings | undefined {
  return byRelay.get(relay);
}

/**
 * The recording side of a relay: the segment index of RecordPath, one recorder per camera with `Record yes`, and
 * retention. Recorders are consumers of the camera's encoded video; they never open a camera themselves.
 */
export class Recordings {
  readonly index: SegmentIndex;
  readonly recorders = new Map<string, CameraRecorder>();
  readonly retention: Retention;
  private readonly sources: RecordingSource[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly stopController = new AbortController();
  private readonly slotReleases: Array<() => void> = [];
  private stopping: Promise<void> | undefined;

  constructor(
    private readonly relay: Relay,
    readonly config: RelayConfig,
    private readonly log: Logger,
    freeSpace: FreeSpace = statfsFreeSpace,
  ) {
    this.index = new SegmentIndex(resolve(config.recording.path));
    const cameras = new Map(config.cameras.filter((camera) => camera.record.enabled)
      .map((camera) => [camera.name, { deleteAfterMs: camera.record.deleteAfterMs, maxBytes: camera.record.maxBytes }]));
    this.retention = new Retention(this.index, {
      cameras, maxTotalBytes: config.recording.maxTotalBytes, minFreeBytes: config.recording.minFreeBytes,
    }, log.child('retention'), freeSpace);
  }

  /** Indexes what is on disk, runs retention once, then starts a recorder per recorded camera. */
  async start(): Promise<void> {
    const started = Date.now();
    const recorded = this.config.cameras.filter((camera) => camera.record.enabled);
    if (recorded.length > 0) {
      await mkdir(this.index.root, { recursive: true }).catch((error: NodeJS.ErrnoException) =>
        this.log.error(`cannot create RecordPath ${this.index.root}: ${error.code ?? error.message}`));
    }
    // A segment runs to the first keyframe after RecordSegmentSeconds: allow a generous keyframe interval beyond it.
    const segmentMs = new Map(this.config.cameras.map((camera) => [camera.name, camera.record.segmentSeconds * 1000 + 30_000]));
    await this.index.build(this.log, (camera) => segmentMs.get(camera) ?? 3_660_000);
    const segments = this.index.all().length;
    this.log.info(`indexed ${segments} segment(s) under ${this.index.root} in ${Date.now() - started} ms`);
    this.runRetention();
    for (const camera of recorded) {
      const source = recordingSource(this.relay, camera);
      this.sources.push(source);
      const recorder = new CameraRecorder({
        camera: camera.name,
        segmentSeconds: camera.record.segmentSeconds,
        source: source.video,
        index: this.index,
        ffmpegPath: this.relay.deps.ffmpeg.path,
        log: this.log.child(`record ${camera.name}`),
        beforeSegment: () => this.runRetention(),
      });
      this.recorders.set(camera.name, recorder);
      // Each recorder's writing ffmpeg counts against MaxProcesses; a recorder waits for its slot like an encoder.
      void this.relay.processSlots.acquire(this.stopController.signal).then((release) => {
        if (!release) return;
        this.slotReleases.push(release);
        recorder.start();
      });
    }
    if (recorded.length > 0) {
      this.timer = setInterval(() => this.runRetention(), RETENTION_INTERVAL_MS);
      this.timer.unref();
    }
  }

  /** Finishes every open segment and stops the encoders. Safe to call twice. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      clearInterval(this.timer);
      this.stopController.abort();
      await Promise.all([...this.recorders.values()].map((recorder) => recorder.stop()));
      for (const release of this.slotReleases) release();
      await Promise.all(this.sources.map((source) => source.close()));
    })();
    return this.stopping;
  }

  private runRetention(): void {
    try {
      this.retention.run();
    } catch (error) {
      this.log.error(`retention pass failed: ${(error as Error).message}`);
    }
  }
}

/** Starts the recordings of a relay and remembers them for its routes and status. */
export async function startRecordings(relay: Relay, log: Logger): Promise<Recordings> {
  const recordings = new Recordings(relay, relay.config, log.child('recording'));
  byRelay.set(relay, recordings);
  await recordings.start();
  return recordings;
}
