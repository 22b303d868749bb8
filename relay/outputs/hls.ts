import type { Context } from 'koa';
import type { StreamConfig } from '../../conf/types.ts';
import { RelayError } from '../core/errors.ts';
import type { SharedEncoder } from '../encoders/shared-encoder.ts';
import type { Feed } from '../core/feed.ts';
import { HeldRequests, type HeldOutcome } from '../hls/held.ts';
import { parseBlockingQuery, sendCacheable, type BlockingQuery } from '../hls/http.ts';
import { findHlsResource, parseHlsName, type HlsRequestKind } from '../hls/lookup.ts';
import { HlsPackager, LATE_READER_SEGMENTS } from '../hls/packager.ts';
import { renderLowLatencyPlaylist, renderPlaylist, targetDuration } from '../hls/playlist.ts';
import { HlsSessions, SESSION_PARAMETER } from '../hls/sessions.ts';
import type { OutputStats, StreamOutput } from './output.ts';
import type { AacAudio } from '../encoders/aac-audio.ts';
import { AudioInterleaver } from '../core/audio-interleave.ts';
import type { AudioTrack, H264Unit } from '../../media/types.ts';
import { performance } from 'node:perf_hooks';

/** LL-HLS part target, seconds (the spec's advice is 0.2 to 0.5 s; parts end before they pass it). */
export const PART_SECONDS = 0.3;
/** Requests held at once per stream (blocking reloads, hinted parts, first playlist); more get 503 at once. */
export const MAX_HELD_REQUESTS = 4096;
/** Of those, from one address (a player holds one at a time; a cache in front holds a few). */
export const MAX_HELD_PER_ADDRESS = 100;
/** Sessions one address may hold; its further clients share them (NAT, or a flood of made-up user agents). */
export const MAX_SESSIONS_PER_ADDRESS = 16;

/** The camera's sound, not heard for this long, is not announced to a stream starting now (as HTTP-FLV does). */
const STALE_SOUND_MS = 3000;
/**
 * A camera with sound whose AAC is still on its way (a G.711 or Opus converter starting) holds the picture back this
 * long at most: a first segment without sound makes the sound's arrival a discontinuity, on which hls.js fails.
 */
const SOUND_WAIT_MS = 5000;

/** The URL prefix of a stream's segments, relative to its playlist: `test.m3u8` -> `test/`. */
export function hlsSegmentPrefix(streamName: string): string {
  return `${streamName.replace(/\.m3u8$/i, '')}/`;
}

/**
 * An HLS stream packaged in the relay from an encoder's frames: MPEG-TS segments, or with `LowLatency yes` LL-HLS
 * (fMP4 parts, blocking playlist reload). Playlists and media come from memory with cache validators, so an HTTP
 * cache can carry them; viewers are counted from served playlist requests (see HlsSessions).
 */
export class HlsOutput implements StreamOutput {
  readonly fanout = undefined;
  readonly player = 'hls';
  readonly resourcePrefix: string;
  readonly packager: HlsPackager;
  /** Requests that reached this relay, by kind: what an operator compares with a cache's traffic. */
  readonly originRequests: Record<HlsRequestKind, number> = { playlist: 0, segment: 0, part: 0, init: 0 };
  bytesOut = 0;
  private readonly sessions: HlsSessions;
  private readonly held = new HeldRequests(MAX_HELD_REQUESTS, MAX_HELD_PER_ADDRESS);
  private unsubscribe: (() => void) | undefined;
  private unsubscribeAudio: (() => void) | undefined;
  private readonly interleaver = new AudioInterleaver((unit) => this.packager.pushAudio(unit));
  private rendered: { version: number; body: Buffer | undefined } | undefined;
  /** Whether the packager knows the sound's track; and when the first picture came, for SOUND_WAIT_MS. */
  private soundKnown = false;
  private firstPictureAt: number | undefined;

  constructor(
    readonly config: StreamConfig,
    readonly feed: Feed,
    /** The camera's shared encoder at this stream's video settings. */
    readonly video: SharedEncoder,
    /** The camera's sound as AAC, for a stream with `Audio yes`. */
    private readonly audio?: AacAudio,
  ) {
    this.resourcePrefix = hlsSegmentPrefix(config.name);
    const container = config.lowLatency ? 'fmp4' : 'ts';
    this.packager = new HlsPackager(
      { container, segmentSeconds: config.hlsSegmentSeconds, listSize: config.hlsListSize, partSeconds: PART_SECONDS },
      hlsSegmentPrefix(config.name),
    );
    this.packager.onChange(() => this.held.check());
    this.sessions = new HlsSessions(this.clientWindowMs, MAX_SESSIONS_PER_ADDRESS, () => this.video.acquire());
  }

  /** A picture goes in after the sound up to its time, so each segment holds both for the same span. */
  private onFrame(frame: H264Unit): void {
    if (this.waitingForSound()) return;
    this.interleaver.video(frame.dts);
    this.packager.push(frame);
  }

  get viewerCount(): number {
    return this.sessions.count;
  }

  /** A viewer that has not reloaded its playlist for this long is no longer counted as watching. */
  get clientWindowMs(): number {
    return Math.max(10_000, this.config.hlsSegmentSeconds * 3 * 1000);
  }

  /** Requests waiting now (blocking reloads, hinted parts, first playlists). */
  get heldRequests(): number {
    return this.held.size;
  }

  start(): void {
    // Sound the camera sent long ago is not announced: a player told of a track that never gets data stalls on it.
    // Sound that comes back announces itself with its next frame.
    const knownSound = this.audio?.track;
    if (knownSound && this.soundHeardRecently()) this.announceSound(knownSound);
    for (const frame of this.video.groupOfPictures) if (!this.waitingForSound()) this.packager.push(frame);
    // An always-on camera's encoder runs by itself; an on-demand one runs while sessions or waiting requests hold it.
    this.unsubscribe = this.video.subscribe((frame) => this.onFrame(frame));
    this.unsubscribeAudio = this.audio?.subscribe((unit) => {
      this.announceSound(unit.track);
      this.interleaver.audio(unit);
    });
  }

  private announceSound(track: AudioTrack): void {
    if (this.packager.announceAudio(track)) this.soundKnown = true;
  }

  /** True while the camera has sound that has not reached this stream yet, for SOUND_WAIT_MS from the first picture. */
  private waitingForSound(): boolean {
    if (!this.audio || this.soundKnown) return false;
    this.firstPictureAt ??= performance.now();
    if (performance.now() - this.firstPictureAt > SOUND_WAIT_MS) return false;
    // Sound announced and not heard yet is on its way; sound heard long ago has stopped.
    return this.feed.counters.lastAudioAt === undefined ? this.feed.announcedAudioTrack !== undefined : this.soundHeardRecently();
  }

  private soundHeardRecently(): boolean {
    const heardAt = this.feed.counters.lastAudioAt;
    return heardAt !== undefined && Date.now() - heardAt < STALE_SOUND_MS;
  }

  stats(): OutputStats {
    const { counters } = this.video;
    return {
      viewers: this.viewerCount,
      bytesOut: this.bytesOut,
      framesOut: counters.framesOut,
      drops: counters.framesDropped,
      slowDisconnects: 0,
      waiting: 0,
      consumers: [],
      originRequests: this.originRequests,
    };
  }

  needsAdmission(ctx: Context, subpath: string): boolean {
    return subpath === '' && this.sessions.wouldAdd(ctx.ip, this.sessionKey(ctx));
  }

  sweep(now: number): void {
    this.sessions.sweep(now);
  }

  async serve(ctx: Context, subpath: string): Promise<void> {
    if (subpath === '') return this.servePlaylist(ctx);
    const parsed = parseHlsName(subpath);
    if (!parsed) throw new RelayError('NOT_FOUND', `no stream at ${ctx.path}`);
    this.originRequests[parsed.kind]++;
    let found = findHlsResource(this.packager, subpath);
    if (found === 'next-part') {
      // The part the playlist hints at is answered as soon as it exists, as LL-HLS asks.
      await this.hold(ctx, () => findHlsResource(this.packager, subpath) !== 'next-part', this.blockingWaitMs);
      found = findHlsResource(this.packager, subpath);
    }
    if (found === undefined || found === 'next-part') throw new RelayError('NOT_FOUND', `${subpath} has expired or was never made`);
    const lifetime = Math.ceil((this.config.hlsListSize + LATE_READER_SEGMENTS) * targetDuration(this.packager));
    sendCacheable(ctx, found.data, {
      contentType: found.kind === 'segment' && this.packager.options.container === 'ts' ? 'video/mp2t' : 'video/mp4',
      cacheControl: `public, max-age=${lifetime}, immutable`,
      etag: `"${subpath}"`,
      modifiedAt: found.createdAt,
      modifiedAtIdentifies: true,
    });
    this.countBody(ctx);
  }

  async close(): Promise<void> {
    this.held.close();
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.unsubscribeAudio?.();
    this.unsubscribeAudio = undefined;
    this.sessions.close();
  }

  private get lowLatency(): boolean {
    return this.packager.options.container === 'fmp4';
  }

  /** The spec's bound on a blocking request: three target durations. */
  private get blockingWaitMs(): number {
    return targetDuration(this.packager) * 3000;
  }

  /** The playlist as it is now, rendered once per change however many clients ask. */
  private render(): Buffer | undefined {
    const { version } = this.packager;
    if (this.rendered?.version !== version) {
      const text = this.lowLatency ? renderLowLatencyPlaylist(this.packager) : renderPlaylist(this.packager);
      this.rendered = { version, body: text === undefined ? undefined : Buffer.from(text) };
    }
    return this.rendered.body;
  }

  /** A playlist whose last change is this old belongs to an encoder that stopped (an idle on-demand camera). */
  private get fresh(): boolean {
    const staleMs = targetDuration(this.packager) * 5000 + 2000;
    return this.packager.segments.length > 0 && Date.now() - this.packager.changedAt < staleMs;
  }

  private async servePlaylist(ctx: Context): Promise<void> {
    this.originRequests.playlist++;
    const blocking = this.lowLatency ? parseBlockingQuery(ctx.query) : undefined;
    if (!this.fresh) {
      // Nothing to show yet: the camera and encoder run while this request waits (it takes no viewer slot).
      const release = this.video.acquire();
      try {
        await this.hold(ctx, () => this.fresh, this.config.hlsSegmentSeconds * 3000 + 10_000);
      } finally {
        release();
      }
      if (!this.fresh) throw new RelayError('NOT_READY', 'stream is starting');
    }
    if (blocking) {
      const state = this.blockingState(blocking);
      if (state === 'invalid') throw new RelayError('BAD_REQUEST', '_HLS_msn/_HLS_part is beyond the next part');
      if (state === 'wait') {
        await this.hold(ctx, () => this.blockingState(blocking) === 'ready', this.blockingWaitMs);
        if (this.blockingState(blocking) !== 'ready') throw new RelayError('NOT_READY', 'the requested part did not come in time');
      }
    }
    const body = this.render()!;
    const halfSegment = Math.max(1, Math.floor(this.config.hlsSegmentSeconds / 2));
    sendCacheable(ctx, body, {
      contentType: 'application/vnd.apple.mpegurl',
      // A blocking reload's answer stays a valid answer to the same question; a plain reload must follow the live edge.
      cacheControl: `public, max-age=${blocking ? targetDuration(this.packager) * 3 : this.lowLatency ? 1 : halfSegment}`,
      etag: `"${this.packager.runId}.${this.packager.version}"`,
      modifiedAt: this.packager.changedAt,
      modifiedAtIdentifies: this.packager.changeIsOnlyOneInItsSecond,
    });
    this.countBody(ctx);
    this.sessions.touch(ctx.ip, this.sessionKey(ctx), Date.now());
  }

  /** Whether the playlist already holds what a blocking reload asks for, may hold it next, or never will in time. */
  private blockingState({ msn, part }: BlockingQuery): 'ready' | 'wait' | 'invalid' {
    const open = this.packager.open;
    if (!open) return 'ready';
    if (msn < open.sequence) {
      // A finished segment: its parts, and the one after its last (which a player asks for when the segment ends early).
      const finished = this.packager.segments.find((segment) => segment.sequence === msn);
      return part !== undefined && finished && part > finished.parts.length ? 'invalid' : 'ready';
    }
    if (part === undefined) return msn === open.sequence ? 'wait' : 'invalid';
    if (msn === open.sequence) return part < open.parts.length ? 'ready' : part === open.parts.length ? 'wait' : 'invalid';
    return msn === open.sequence + 1 && part === 0 ? 'wait' : 'invalid';
  }

  private async hold(ctx: Context, ready: () => boolean, timeoutMs: number): Promise<void> {
    const gone = new AbortController();
    const onClose = (): void => gone.abort();
    ctx.res.once('close', onClose);
    let outcome: HeldOutcome;
    try {
      outcome = await this.held.wait(ready, timeoutMs, gone.signal, ctx.ip);
    } finally {
      ctx.res.off('close', onClose);
    }
    if (outcome === 'full') throw new RelayError('FULL', 'too many requests waiting for this stream');
    if (outcome === 'closed') throw new RelayError('NOT_READY', 'stream stopped');
  }

  private sessionKey(ctx: Context): string {
    const token = ctx.query[SESSION_PARAMETER];
    return HlsSessions.key(ctx.ip, typeof token === 'string' ? token : undefined, ctx.get('user-agent'));
  }

  private countBody(ctx: Context): void {
    if (ctx.status === 200 && ctx.method === 'GET' && Buffer.isBuffer(ctx.body)) this.bytesOut += ctx.body.length;
  }
}
