import { performance } from 'node:perf_hooks';
import { FMP4_TIMESCALE, fragment, initSegment, type Fmp4Sample } from '../../../media/fmp4.ts';
import type { AudioUnit } from '../../../adapters/types.ts';
import type { H264Unit, H264Source, H264Track } from '../../../media/types.ts';
import { audioFrameMs } from '../../core/audio-interleave.ts';
import { Fanout } from '../../core/fanout.ts';
import type { Viewer } from '../../core/viewer.ts';
import { binaryFrame, jsonFrame } from './frame.ts';
import { configMessage, type WsMode } from './hello.ts';
import { rawVideoUnit } from './raw-unit.ts';
import { fmp4AudioMessage, rawAudioMessage, WsSound, type SoundTrack, type WsAudioSource } from './sound.ts';

/** Kept frames older than this (no frame since) are the past, not live video: a new viewer waits for fresh ones. */
const STALE_GOP_MS = 3000;
const TICKS_PER_MS = FMP4_TIMESCALE / 1000;

/** Where a stream's WebSocket viewers get their video: the stream's shared encoder, and whether the camera is live. */
export interface WsVideo {
  readonly source: H264Source;
  /** True while the camera delivers (feed state live). */
  live(): boolean;
  /** The encoder's frame rate, for the duration of the first fragment of a run. */
  readonly frameRate: number;
  /** The camera's sound as AAC, for a stream with `Audio yes`. */
  readonly audio?: WsAudioSource;
}

/**
 * One stream's WebSocket viewers: the encoder's access units packaged once per frame and per mode (an fMP4 fragment,
 * or a raw unit), framed as one WebSocket message, and written as the same Buffer to every viewer of that mode through
 * the fan-out, with its slow-viewer policy. Nothing is packaged for a mode nobody watches. Viewers that asked for sound
 * and started while the camera had it also get its AAC frames, in time order between the video frames, sent like
 * non-key frames (they count in the viewer's budget and are dropped with the group they belong to).
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
  /** Added to the picture's times (and the sound's with them) so that a new encoder run never goes back before frames already sent (ms). */
  private shift = 0;
  /** The newest decode time sent, shift included. */
  private newestDts: number | undefined;
  private lastFrameAt = -Infinity;
  private sequence = 0;
  private unsubscribe: (() => void) | undefined;
  private readonly sound: WsSound | undefined;
  /** Viewers that asked for sound, until they start. */
  private readonly wantSound = new Set<Viewer>();
  /** Started viewers that get sound, by mode, with the track their config announced. */
  private readonly hearing: Record<WsMode, Map<Viewer, SoundTrack>> = { fmp4: new Map(), raw: new Map() };
  /** The sound track the newest audio frames belong to. */
  private soundTrack: SoundTrack | undefined;
  /** The newest audio time sent (ms on the stream's timeline): audio times only rise. */
  private lastAudioTime = -Infinity;

  constructor(
    private readonly video: WsVideo,
    writeTimeoutMs: number,
  ) {
    this.fanouts = { fmp4: new Fanout(writeTimeoutMs), raw: new Fanout(writeTimeoutMs) };
    this.sound = video.audio && new WsSound(video.audio, (unit) => this.onAudio(unit));
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

  /** The sound a viewer starting now would get: undefined for a stream without sound or a camera now silent. */
  get soundNow(): SoundTrack | undefined {
    return this.sound?.present;
  }

  /**
   * Adds a viewer (its hello answered): it starts on the current group at once when that is live, else waits. `sound`:
   * it asked for the stream's sound, which it gets if the camera has sound when it starts.
   */
  join(viewer: Viewer, mode: WsMode, sound = false): void {
    viewer.onClose(this.video.source.acquire());
    if (sound && this.sound) {
      // The sound up to the newest frame goes out now (the interleaver holds it until the next frame), so that the kept
      // group a viewer starts on comes with its sound.
      const newest = this.video.source.groupOfPictures.at(-1);
      if (newest) this.sound.video(newest.dts, false);
      this.wantSound.add(viewer);
      viewer.onClose(() => {
        this.wantSound.delete(viewer);
        this.hearing[mode].delete(viewer);
      });
    }
    const fanout = this.fanouts[mode];
    const group = this.video.source.groupOfPictures;
    const fresh = this.video.live() && performance.now() - this.lastFrameAt < STALE_GOP_MS;
    if (!fresh || group.length === 0 || group[0]!.track !== this.track) {
      fanout.addWaiting(viewer);
      return;
    }
    this.sendStart(viewer, mode);
    // The kept sound goes between the kept frames as it did live: each frame after the sound that ends before it. Sound
    // that ends before the first picture (it came after the keyframe, behind the encoder) is not this group's.
    const start = group[0]!.dts;
    const kept = this.hearing[mode].has(viewer) ? this.sound!.kept.filter((unit) => unit.dts + audioFrameMs(unit) > start) : [];
    let next = 0;
    for (const frame of group) {
      for (; next < kept.length && kept[next]!.dts + audioFrameMs(kept[next]!) <= frame.dts; next++) viewer.sendRequired(this.audioMessage(kept[next]!, mode));
      viewer.sendRequired(this.message(frame, mode));
    }
    for (; next < kept.length; next++) viewer.sendRequired(this.audioMessage(kept[next]!, mode));
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
    this.sound?.close();
  }

  /** Takes a keyframe's track as the current one; the first keyframe adopted sets the zero. */
  private adopt(keyframe: H264Unit): void {
    const track = keyframe.track;
    this.track = track;
    this.timeBase ??= keyframe.dts;
    this.config = jsonFrame(configMessage(track));
    this.init = binaryFrame(initSegment(track));
    this.lastDts = undefined;
  }

  /** The config (and init segment) a viewer starts on; whether it gets sound is decided here, once. */
  private sendStart(viewer: Viewer, mode: WsMode): number {
    const before = viewer.bytesSent;
    const sound = this.wantSound.delete(viewer) ? this.sound?.present : undefined;
    if (sound) {
      this.hearing[mode].set(viewer, sound);
      viewer.sendRequired(this.startBytes(mode, sound));
    } else {
      viewer.sendRequired(this.config!);
      if (mode === 'fmp4') viewer.sendRequired(this.init!);
    }
    return viewer.bytesSent - before;
  }

  /** Config and (fMP4) init segment of the current video track with `sound`. */
  private startBytes(mode: WsMode, sound: SoundTrack): Buffer {
    const config = jsonFrame(configMessage(this.track!, sound));
    return mode === 'fmp4' ? Buffer.concat([config, binaryFrame(initSegment(this.track!, sound))]) : config;
  }

  /**
   * New parameters for every started viewer (`plain` undefined: new sound parameters, for those hearing only): each
   * gets the config that matches what it receives.
   */
  private announce(mode: WsMode, plain: Buffer | undefined): void {
    const fanout = this.fanouts[mode];
    const waiting = new Set(fanout.waitingViewers);
    const withSound = new Map<SoundTrack, Buffer>();
    for (const viewer of fanout.viewers) {
      if (waiting.has(viewer)) continue;
      const sound = this.hearing[mode].get(viewer);
      let bytes = plain;
      if (sound) {
        const track = this.soundTrack ?? sound;
        this.hearing[mode].set(viewer, track);
        bytes = withSound.get(track) ?? this.startBytes(mode, track);
        withSound.set(track, bytes);
      }
      if (!bytes) continue;
      viewer.sendRequired(bytes);
      fanout.counters.bytesOut += bytes.length;
    }
  }

  private onFrame(frame: H264Unit): void {
    if (frame.track !== this.track) {
      // A new encoder run or new camera parameters: decoders are told before the first frame of the new track.
      if (!frame.keyframe) return;
      this.adopt(frame);
      // A restarted encoder starts again on the camera's kept frames, some of them sent already: decoders and MSE
      // need times that keep rising, so the new run follows one frame interval after the newest frame sent.
      if (this.newestDts !== undefined && frame.dts + this.shift <= this.newestDts) {
        this.shift = this.newestDts + 1000 / (this.video.frameRate || 25) - frame.dts;
      }
      this.announce('raw', this.config!);
      this.announce('fmp4', Buffer.concat([this.config!, this.init!]));
    }
    this.sound?.video(frame.dts, frame.keyframe);
    this.lastFrameAt = performance.now();
    for (const mode of ['raw', 'fmp4'] as const) {
      const fanout = this.fanouts[mode];
      if (frame.keyframe) for (const viewer of fanout.waitingViewers) fanout.start(viewer, this.sendStart(viewer, mode));
      if (fanout.viewers.size > 0) fanout.broadcast(this.message(frame, mode), frame.keyframe);
    }
    this.lastDts = frame.dts;
    this.newestDts = frame.dts + this.shift;
  }

  /** One AAC frame, in time order after the video before it: to every viewer hearing, and kept for newcomers. */
  private onAudio(unit: AudioUnit): void {
    if (this.timeBase === undefined || !this.track || !unit.track.config) return;
    // Sound from before the stream's zero, or not after what went out already, has no place on the timeline.
    const time = this.audioTime(unit);
    if (time < 0 || time <= this.lastAudioTime) return;
    this.lastAudioTime = time;
    if (unit.track !== this.soundTrack) {
      this.soundTrack = unit.track as SoundTrack;
      // A camera that comes back with other sound parameters: decoders of those hearing it are told first.
      for (const mode of ['raw', 'fmp4'] as const) {
        if ([...this.hearing[mode].values()].some((track) => track !== this.soundTrack)) this.announce(mode, undefined);
      }
    }
    this.sound!.keep(unit);
    for (const mode of ['raw', 'fmp4'] as const) {
      const fanout = this.fanouts[mode];
      if (this.hearing[mode].size === 0) continue;
      const bytes = this.audioMessage(unit, mode);
      for (const viewer of this.hearing[mode].keys()) {
        if (viewer.send(bytes, false)) fanout.counters.bytesOut += bytes.length;
        else fanout.counters.drops++;
      }
    }
  }

  /** An audio frame's time on the stream's timeline: moved on with the picture's when a new encoder run was shifted. */
  private audioTime(unit: AudioUnit): number {
    return unit.dts - this.timeBase! + this.shift;
  }

  private audioMessage(unit: AudioUnit, mode: WsMode): Buffer {
    const time = this.audioTime(unit);
    return mode === 'raw' ? rawAudioMessage(unit, time) : fmp4AudioMessage(++this.sequence, unit, time);
  }

  private message(frame: H264Unit, mode: WsMode): Buffer {
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
