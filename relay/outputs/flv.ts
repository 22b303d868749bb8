import type { Context } from 'koa';
import { performance } from 'node:perf_hooks';
import type { StreamConfig } from '../../conf/types.ts';
import type { SharedEncoder } from '../encoders/shared-encoder.ts';
import type { Feed } from '../core/feed.ts';
import { flvHeader, flvMetadata, flvSequenceHeader, flvVideoTag } from '../../media/flv/mux.ts';
import type { H264Unit, H264Track } from '../../media/types.ts';
import type { Viewer } from '../core/viewer.ts';
import { FanoutOutput } from './fanout-output.ts';
import { KeptGroup } from '../core/hub.ts';
import { serveLiveViewer } from './output.ts';
import type { AacAudio } from '../encoders/aac-audio.ts';
import type { AudioUnit } from '../../adapters/types.ts';
import type { AudioTrack } from '../../media/types.ts';
import { flvAacSequenceHeader, flvAacTag } from '../../media/flv/audio.ts';
import { AudioInterleaver, audioFrameMs } from '../core/audio-interleave.ts';

/** Kept tags older than this (no frame since) are the past, not live video: a new consumer waits for fresh ones. */
const STALE_GOP_MS = 3000;

/**
 * An FLV stream packaged from a shared encoder's frames: each access unit becomes one tag, built once and written to
 * every consumer. A new consumer gets the FLV header, the codec configuration and the current group of pictures from
 * its keyframe, so it starts at once. Times run on from the first frame, across encoder and camera restarts.
 */
export class FlvOutput extends FanoutOutput {
  readonly player = 'flv';
  private track: H264Track | undefined;
  /** onMetaData and the AVC sequence header of the current track. */
  private sequenceHeader: Buffer | undefined;
  /** The tags from the last keyframe on, for a consumer that joins. */
  private readonly gop = new KeptGroup<Buffer>();
  private timeBase: number | undefined;
  /** Camera time of the kept group's keyframe: sound ending before it is not the group's, even when it came later. */
  private keptFrom = -Infinity;
  private lastFrameAt = -Infinity;
  private unsubscribe: (() => void) | undefined;
  private unsubscribeAudio: (() => void) | undefined;
  private audioTrack: AudioTrack | undefined;
  /** The AAC sequence header of the current audio track. */
  private audioHeader: Buffer | undefined;
  /** Made with the stream's first sound: until then no frame has sound to wait for, and a silent camera costs none. */
  private interleaver: AudioInterleaver | undefined;
  /** Audio tags written, for /stat.json. */
  audioFramesOut = 0;
  /** When the camera's sound last reached this stream (it waits in the interleaver before it is written). */
  private audioHeardAt = -Infinity;
  /** Camera time of the keyframe each viewer started on: sound ending before it is from before that viewer's start. */
  private readonly startedFrom = new WeakMap<Viewer, number>();

  /** `audio`: the camera's sound as AAC, for a stream with `Audio yes`. */
  constructor(config: StreamConfig, feed: Feed, override readonly video: SharedEncoder, private readonly audio?: AacAudio) {
    super(config, feed, video);
  }

  get ready(): boolean {
    return this.sequenceHeader !== undefined && this.gop.frames.length > 0;
  }

  start(): void {
    this.unsubscribe ??= this.video.subscribe((frame) => this.onFrame(frame));
    this.unsubscribeAudio ??= this.audio?.subscribe((unit) => {
      this.audioHeardAt = performance.now();
      this.interleaver ??= new AudioInterleaver((held) => this.writeAudio(held), this.lastFrameAt);
      this.interleaver.audio(unit);
    });
    for (const frame of this.video.groupOfPictures) this.onFrame(frame);
  }

  async serve(ctx: Context, subpath: string): Promise<void> {
    if (subpath) ctx.throw(404);
    serveLiveViewer(ctx, this, 'video/x-flv');
  }

  protected stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.unsubscribeAudio?.();
    this.unsubscribeAudio = undefined;
  }

  protected join(viewer: Viewer): void {
    if (!this.ready || !this.live) {
      // The camera or encoder is still starting, or down: the consumer waits (counted) and gets video as soon as it
      // exists; a player handed the kept group during an outage would show seconds-old video as live.
      this.fanout.addWaiting(viewer);
      return;
    }
    this.sendStart(viewer);
    this.fanout.add(viewer);
  }

  /** True while the camera is live and frames are arriving, so the kept group is the present. */
  private get live(): boolean {
    return this.feed.state === 'live' && performance.now() - this.lastFrameAt < STALE_GOP_MS;
  }

  private sendStart(viewer: Viewer): number {
    const before = viewer.bytesSent;
    // The header announces sound only where the camera has it: a player told of a track that never comes waits for it.
    // A camera whose sound stopped is announced silent to newcomers: MSE players stall on a track that gets no data.
    this.adoptHeardAudio();
    const sound = this.audioHeader !== undefined && performance.now() - this.audioHeardAt < STALE_GOP_MS;
    viewer.sendRequired(flvHeader(sound));
    viewer.sendRequired(this.sequenceHeader!);
    if (sound) viewer.sendRequired(this.audioHeader!);
    for (const tag of this.gop.frames) viewer.sendRequired(tag);
    this.startedFrom.set(viewer, this.keptFrom);
    return viewer.bytesSent - before;
  }

  private onFrame(frame: H264Unit): void {
    this.timeBase ??= frame.dts;
    this.lastFrameAt = performance.now();
    const time = frame.dts - this.timeBase;
    this.interleaver?.video(frame.dts);
    if (frame.track !== this.track) {
      if (!frame.keyframe) return;
      this.track = frame.track;
      this.sequenceHeader = Buffer.concat([flvMetadata(frame.track, this.video.settings.frameRate, time, this.audioTrack), flvSequenceHeader(frame.track, time)]);
      this.fanout.broadcastRequired(this.sequenceHeader);
    }
    const tag = flvVideoTag(frame, time);
    if (frame.keyframe) this.keptFrom = frame.dts;
    this.gop.add(tag, frame.keyframe, tag.length);
    this.fanout.broadcast(tag, frame.keyframe);
    if (frame.keyframe) for (const viewer of this.fanout.waitingViewers) this.fanout.start(viewer, this.sendStart(viewer));
  }

  /**
   * The first viewers start on the first picture, before any sound is written (it waits for the picture in the
   * interleaver): the sound already heard makes their header announce it, else their players would ignore it.
   */
  private adoptHeardAudio(): void {
    const track = this.audio?.track;
    if (this.audioTrack !== undefined || !track?.config || performance.now() - this.audioHeardAt >= STALE_GOP_MS) return;
    this.audioTrack = track;
    this.audioHeader = flvAacSequenceHeader(track, 0);
  }

  /** One AAC frame as a tag, in time order with the video; sound from before the stream's first picture is dropped. */
  private writeAudio(unit: AudioUnit): void {
    if (this.timeBase === undefined || unit.dts < this.timeBase) return;
    const time = unit.dts - this.timeBase;
    if (unit.track !== this.audioTrack) {
      if (!unit.track.config) return;
      this.audioTrack = unit.track;
      this.audioHeader = flvAacSequenceHeader(unit.track, time);
      this.fanout.broadcastRequired(this.audioHeader);
    }
    const tag = flvAacTag(unit, time);
    // Sound converted behind the picture can come after the next keyframe: viewers hearing get it, newcomers start clean,
    // those that started on that keyframe too (a converter seconds behind under load started them with seconds-old sound).
    const end = unit.dts + audioFrameMs(unit);
    if (end > this.keptFrom) {
      this.gop.add(tag, false, tag.length);
      this.fanout.broadcast(tag, false);
    } else {
      this.fanout.broadcast(tag, false, (viewer) => end > (this.startedFrom.get(viewer) ?? -Infinity));
    }
    this.audioFramesOut++;
  }
}
