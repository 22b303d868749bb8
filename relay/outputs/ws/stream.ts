import { performance } from 'node:perf_hooks';
import { FMP4_TIMESCALE, fragment, initSegment, type Fmp4Sample } from '../../../media/fmp4.ts';
import type { EncodedVideoFrame, EncodedVideoSource, H264Track } from '../../../media/types.ts';
import { Fanout } from '../../core/fanout.ts';
import type { Viewer } from '../../core/viewer.ts';
import { binaryFrame, jsonFrame } from './frame.ts';
import { configMessage, type WsMode } from './hello.ts';
import { rawVideoUnit } from './raw-unit.ts';

/** Kept frames older than this (no frame since) are the past, not live video: a new viewer waits for fresh ones. */
const STALE_GOP_MS = 3000;
const TICKS_PER_MS = FMP4_TIMESCALE / 1000;

/** Where a stream's WebSocket viewers get their video: the stream's shared encoder, and whether the camera is live. */
export interface WsVideo {
  readonly source: EncodedVideoSource;
  /** True while the camera delivers (feed state live). */
  live(): boolean;
  /** The encoder's frame rate, for the duration of the first fragment of a run. */
  readonly frameRate: number;
}

/**
 * One stream's WebSocket viewers: the encoder's access units packaged once per frame and per mode (an fMP4 fragment,
 * or a raw unit), framed as one WebSocket message, and written as the same Buffer to every viewer of that mode through
 * the fan-out, with its slow-viewer policy. Nothing is packaged for a mode nobody watches.
 */
export class WsStream {
  readonly fanouts: Record<WsMode, Fanout>;
  private track: H264Track | undefined;
  private config: Buffer | undefined;
  private init: Buffer | undefined;
  /**
   * The stream's zero (ms on the camera's timeline): the decode time of the first keyframe adopted. Every frame a
   * viewer gets is that keyframe or a later one, so no time is ever below it.
   */
  private timeBase: number | undefined;
  private lastDts: number | undefined;
  /** Added to a track's times so that a new encoder run never goes back before frames already sent (ms). */
  private shift = 0;
  /** The newest decode time sent, shift included. */
  private newestDts: number | undefined;
  private lastFrameAt = -Infinity;
  private sequence = 0;
  private unsubscribe: (() => void) | undefined;

  constructor(
    private readonly video: WsVideo,
    writeTimeoutMs: number,
  ) {
    this.fanouts = { fmp4: new Fanout(writeTimeoutMs), raw: new Fanout(writeTimeoutMs) };
    this.unsubscribe = video.source.subscribe((frame) => this.onFrame(frame));
    // Made while the camera is live: the group the encoder keeps is the present, and a first viewer starts on it.
    const first = video.source.groupOfPictures[0];
    if (first && video.live()) {
      this.adopt(first);
      this.lastFrameAt = performance.now();
    }
  }

  get viewerCount(): number {
    return this.fanouts.fmp4.viewers.size + this.fanouts.raw.viewers.size;
  }

  /** Adds a viewer (its hello answered): it starts on the current group at once when that is live, else waits. */
  join(viewer: Viewer, mode: WsMode): void {
    viewer.onClose(this.video.source.acquire());
    const fanout = this.fanouts[mode];
    const group = this.video.source.groupOfPictures;
    const fresh = this.video.live() && performance.now() - this.lastFrameAt < STALE_GOP_MS;
    if (!fresh || group.length === 0 || group[0]!.track !== this.track) {
      fanout.addWaiting(viewer);
      return;
    }
    this.sendStart(viewer, mode);
    for (const frame of group) viewer.sendRequired(this.message(frame, mode));
    fanout.add(viewer);
  }

  sweep(now: number): void {
    this.fanouts.fmp4.sweep(now);
    this.fanouts.raw.sweep(now);
  }

  /** Ends every viewer and stops listening. Safe to call twice. */
  close(): void {
    this.fanouts.fmp4.endAll();
    this.fanouts.raw.endAll();
    this.stop();
  }

  private stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
  }

  /** Takes a keyframe's track as the current one; the first keyframe adopted sets the zero. */
  private adopt(keyframe: EncodedVideoFrame): void {
    const track = keyframe.track;
    this.track = track;
    this.timeBase ??= keyframe.dts;
    this.config = jsonFrame(configMessage(track));
    this.init = binaryFrame(initSegment(track));
    this.lastDts = undefined;
  }

  private sendStart(viewer: Viewer, mode: WsMode): number {
    const before = viewer.bytesSent;
    viewer.sendRequired(this.config!);
    if (mode === 'fmp4') viewer.sendRequired(this.init!);
    return viewer.bytesSent - before;
  }

  private onFrame(frame: EncodedVideoFrame): void {
    if (frame.track !== this.track) {
      // A new encoder run or new camera parameters: decoders are told before the first frame of the new track.
      if (!frame.keyframe) return;
      this.adopt(frame);
      // A restarted encoder starts again on the camera's kept frames, some of them sent already: decoders and MSE
      // need times that keep rising, so the new run follows one frame interval after the newest frame sent.
      if (this.newestDts !== undefined && frame.dts + this.shift <= this.newestDts) {
        this.shift = this.newestDts + 1000 / (this.video.frameRate || 25) - frame.dts;
      }
      this.fanouts.raw.broadcastRequired(this.config!);
      this.fanouts.fmp4.broadcastRequired(Buffer.concat([this.config!, this.init!]));
    }
    this.lastFrameAt = performance.now();
    for (const mode of ['raw', 'fmp4'] as const) {
      const fanout = this.fanouts[mode];
      if (frame.keyframe) for (const viewer of fanout.waitingViewers) fanout.start(viewer, this.sendStart(viewer, mode));
      if (fanout.viewers.size > 0) fanout.broadcast(this.message(frame, mode), frame.keyframe);
    }
    this.lastDts = frame.dts;
    this.newestDts = frame.dts + this.shift;
  }

  private message(frame: EncodedVideoFrame, mode: WsMode): Buffer {
    // The zero is set at adoption, never by whichever frame passes first: a later viewer's kept group is older.
    const timeBase = (this.timeBase ?? frame.dts) - this.shift;
    if (mode === 'raw') return binaryFrame(rawVideoUnit(frame, timeBase));
    // A frame's own duration is known only when the next one comes: the interval before it stands in (the decode
    // time in each fragment is exact, so the estimate never accumulates).
    const interval = this.lastDts !== undefined && frame.dts > this.lastDts ? frame.dts - this.lastDts : 1000 / (this.video.frameRate || 25);
    const sample: Fmp4Sample = {
      nalus: frame.data,
      dts: (frame.dts - timeBase) * TICKS_PER_MS,
      compositionOffset: (frame.pts - frame.dts) * TICKS_PER_MS,
      duration: interval * TICKS_PER_MS,
      keyframe: frame.keyframe,
    };
    return binaryFrame(fragment(++this.sequence, [sample]));
  }
}
