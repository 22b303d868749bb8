import type { EventSink } from '../../lib/event-bus.ts';
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { RelayConfig } from '../../conf/types.ts';
import type { Logger } from '../../lib/log.ts';
import { sameExceptLine } from '../../conf/same.ts';
import type { ProcessSlots } from '../../lib/process-slots.ts';
import { CameraRecorder } from './recorder.ts';
import { Retention, statfsFreeSpace, type FreeSpace } from './retention.ts';
import { SegmentIndex } from './segment-index.ts';
import { sameFeed, sameRecorder } from '../running/camera-changes.ts';
import { recordingVideo, type EncoderSupply, type RecordingVideo } from './recording-video.ts';
import { Archiver, type ArchivedCamera } from './archiver.ts';
import type { ObjectStore } from '../../lib/object-store.ts';

/** How often retention runs besides before each new segment, ms. */
const RETENTION_INTERVAL_MS = 2000;

/** What recording needs of the running relay: its config, its cameras' encoders, process slots, ffmpeg and log. */
export interface RecordingRelay extends EncoderSupply {
  readonly config: RelayConfig;
  readonly processSlots: ProcessSlots;
  readonly deps: { readonly log: Logger; readonly ffmpeg: { readonly path: string }; readonly events?: EventSink };
  /** The configured buckets, for RecordArchive. */
  readonly objectStores: ReadonlyMap<string, ObjectStore>;
}

/**
 * Where the relay's recordings of the moment are (a reload builds new ones): made by relay/app/main.ts and handed to
 * the recording routes, status and metrics, and to recorders carried over a reload.
 */
export interface RecordingsRef {
  current: Recordings | undefined;
}

/** A recorder with what it holds: the camera's encoder. */
interface RunningRecorder {
  readonly recorder: CameraRecorder;
  readonly source: RecordingVideo;
}

/** What a reload hands from the old recordings to the new: the index and the recorders that go on unchanged. */
export interface CarriedRecordings {
  readonly index: SegmentIndex;
  readonly running: Map<string, RunningRecorder>;
  /**
   * The encoders still held for recorders that stopped for a Record* change of a camera that stays: let go only once
   * the new recorder holds its own, so that one at unchanged encoder settings goes on instead of starting again.
   */
  readonly held: Map<string, RecordingVideo>;
}

/**
 * The recording side of a relay: the segment index of RecordPath, one recorder per camera with `Record yes`, and
 * retention. Recorders are consumers of the camera's encoded video; they never open a camera themselves.
 */
export class Recordings {
  readonly index: SegmentIndex;
  readonly recorders = new Map<string, CameraRecorder>();
  readonly retention: Retention;
  /** Uploads closed segments of cameras with RecordArchive; undefined when none has one. */
  readonly archiver: Archiver | undefined;
  private readonly running = new Map<string, RunningRecorder>();
  private timer: NodeJS.Timeout | undefined;
  private stopping: Promise<void> | undefined;

  constructor(
    private readonly relay: RecordingRelay,
    readonly config: RelayConfig,
    private readonly log: Logger,
    freeSpace: FreeSpace = statfsFreeSpace,
    private readonly carried?: CarriedRecordings,
    private readonly ref?: RecordingsRef,
  ) {
    this.index = carried?.index ?? new SegmentIndex(resolve(config.recording.path));
    const cameras = new Map(config.cameras.filter((camera) => camera.record.enabled)
      .map((camera) => [camera.name, { deleteAfterMs: camera.record.deleteAfterMs, maxBytes: camera.record.maxBytes }]));
    this.retention = new Retention(this.index, {
      cameras, maxTotalBytes: config.recording.maxTotalBytes, minFreeBytes: config.recording.minFreeBytes,
    }, log.child('retention'), freeSpace);
    this.retention.events = relay.deps.events;
    const archived = new Map<string, ArchivedCamera>();
    for (const camera of config.cameras) {
      const store = camera.record.archive ? relay.objectStores.get(camera.record.archive) : undefined;
      if (store) archived.set(camera.name, { store, localKeepMs: camera.record.localKeepMs, segmentMs: camera.record.segmentSeconds * 1000 });
    }
    this.archiver = archived.size > 0 ? new Archiver(this.index, archived, log.child('archive')) : undefined;
    if (this.archiver) this.retention.onDeleted = (segment) => this.archiver?.deleted(segment);
  }

  /**
   * Indexes what is on disk (unless a reload carried the index over), runs retention once, then starts a recorder per
   * recorded camera, or takes over the one a reload carried.
   */
  async start(): Promise<void> {
    const started = Date.now();
    const recorded = this.config.cameras.filter((camera) => camera.record.enabled);
    if (recorded.length > 0) {
      await mkdir(this.index.root, { recursive: true }).catch((error: NodeJS.ErrnoException) =>
        this.log.error(`cannot create RecordPath ${this.index.root}: ${error.code ?? error.message}`));
    }
    if (!this.carried) {
      // A segment runs to the first keyframe after RecordSegmentSeconds: allow a generous keyframe interval beyond it.
      const segmentMs = new Map(this.config.cameras.map((camera) => [camera.name, camera.record.segmentSeconds * 1000 + 30_000]));
      await this.index.build(this.log, (camera) => segmentMs.get(camera) ?? 3_660_000);
      const segments = this.index.all().length;
      this.log.info(`indexed ${segments} segment(s) under ${this.index.root} in ${Date.now() - started} ms`);
    }
    this.runRetention();
    // Listed in the background: recording starts at once, uploads once the bucket has answered.
    void this.archiver?.start();
    for (const camera of recorded) {
      const carried = this.carried?.running.get(camera.name);
      if (carried) {
        this.running.set(camera.name, carried);
        this.recorders.set(camera.name, carried.recorder);
        continue;
      }
      const source = recordingVideo(this.relay, camera);
      const recorder = new CameraRecorder({
        camera: camera.name,
        segmentSeconds: camera.record.segmentSeconds,
        source: source.video,
        audio: source.audio,
        index: this.index,
        log: this.log.child(`record ${camera.name}`),
        events: this.relay.deps.events,
        // The relay's recordings of the moment: a recorder carried over a reload follows the new retention limits.
        beforeSegment: () => (this.ref?.current ?? this).runRetention(),
      });
      this.running.set(camera.name, { recorder, source });
      this.recorders.set(camera.name, recorder);
      // The recorder writes its files itself: no process, so no MaxProcesses slot to wait for.
      recorder.start();
      await this.carried?.held.get(camera.name)?.close(source.video);
      this.carried?.held.delete(camera.name);
    }
    // Cameras no longer recorded: their encoders go now.
    for (const held of this.carried?.held.values() ?? []) await held.close();
    this.carried?.held.clear();
    if (recorded.length > 0) {
      this.timer = setInterval(() => this.runRetention(), RETENTION_INTERVAL_MS);
      this.timer.unref();
    }
  }

  /**
   * Before a reload to `next`: hands over the index and the recorders whose camera connection, Record* settings (but
   * retention's) and RecordPath stay as they are, so that their open segments go on; the rest are stopped as stop() would.
   */
  async handOver(next: RelayConfig): Promise<CarriedRecordings | undefined> {
    if (!sameExceptLine(next.recording, this.config.recording)) {
      await this.stop();
      return undefined;
    }
    const running = new Map<string, RunningRecorder>();
    const restarting = new Map<string, RunningRecorder>();
    for (const [name, entry] of this.running) {
      const before = this.config.cameras.find((camera) => camera.name === name);
      const after = next.cameras.find((camera) => camera.name === name);
      if (before && after && sameRecorder(before, after)) running.set(name, entry);
      else if (before && after && sameFeed(before, after)) restarting.set(name, entry);
    }
    for (const name of [...running.keys(), ...restarting.keys()]) this.running.delete(name);
    await this.stop();
    await Promise.all([...restarting.values()].map((entry) => entry.recorder.stop()));
    const held = new Map([...restarting].map(([name, entry]) => [name, entry.source]));
    return { index: this.index, running, held };
  }

  /** Finishes every open segment and stops the encoders. Safe to call twice. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      clearInterval(this.timer);
      this.archiver?.stop();
      const entries = [...this.running.values()];
      this.running.clear();
      await Promise.all(entries.map((entry) => entry.recorder.stop()));
      await Promise.all(entries.map((entry) => entry.source.close()));
    })();
    return this.stopping;
  }

  /** One retention pass; a failure is logged, never thrown. */
  runRetention(): void {
    try {
      this.retention.run();
      this.archiver?.tick();
    } catch (error) {
      this.log.error(`retention pass failed: ${(error as Error).message}`);
    }
  }
}

/** Starts the recordings of a relay and makes them the current ones of `ref`, for its routes and status. */
export async function startRecordings(relay: RecordingRelay, log: Logger, ref: RecordingsRef, carried?: CarriedRecordings): Promise<Recordings> {
  const recordings = new Recordings(relay, relay.config, log.child('recording'), statfsFreeSpace, carried, ref);
  ref.current = recordings;
  await recordings.start();
  return recordings;
}
