import type { Context } from 'koa';
import type { StreamConfig } from '../../conf/types.ts';
import type { Feed } from '../feed.ts';
import { FlvTagReader, FlvTagType, type FlvTag } from '../flv.ts';
import type { Logger } from '../log.ts';
import type { Transcode } from '../transcode.ts';
import type { Viewer } from '../viewer.ts';
import { FanoutOutput } from './fanout-output.ts';
import { openLiveViewer } from './output.ts';

/** The tags kept for instant start are bounded; a longer group waits for the next keyframe. */
const MAX_GOP_BYTES = 8 * 1024 * 1024;

/**
 * An FLV stream: ffmpeg's FLV output parsed into tags once, written to every viewer. A new viewer gets the FLV
 * header, metadata, the codec configuration and the current group of pictures from its keyframe, so it starts at once.
 */
export class FlvOutput extends FanoutOutput {
  private reader = new FlvTagReader();
  private metadata: Buffer | undefined;
  private sequenceHeader: Buffer | undefined;
  private gop: FlvTag[] = [];
  private gopBytes = 0;
  private waiting = new Set<() => void>();
  /** Added to each ffmpeg process's timestamps so that viewers see time go on across an ffmpeg restart. */
  private timestampOffset = 0;
  private lastTimestamp = 0;

  constructor(
    config: StreamConfig,
    feed: Feed,
    transcode: Transcode,
    private readonly log: Logger,
  ) {
    super(config, feed, transcode);
  }

  /** Wired by the Relay as the transcode's onProcessStart: a new ffmpeg starts a new FLV file. */
  resetStream(): void {
    this.reader = new FlvTagReader();
    if (this.lastTimestamp > 0) this.timestampOffset = this.lastTimestamp + 100;
    this.gop = [];
    this.gopBytes = 0;
  }

  /** Wired by the Relay as the transcode's onStdout. */
  onFfmpegOutput(chunk: Buffer): void {
    let tags: FlvTag[];
    try {
      tags = this.reader.push(chunk);
    } catch (error) {
      this.log.error(`bad FLV from ffmpeg: ${(error as Error).message}`);
      this.resetStream();
      return;
    }
    for (const tag of tags) this.onTag(tag);
  }

  get ready(): boolean {
    return this.reader.header !== undefined && this.sequenceHeader !== undefined && this.gop.length > 0;
  }

  start(): void {
    this.demand.start();
  }

  async serve(ctx: Context, subpath: string): Promise<void> {
    if (subpath) ctx.throw(404);
    const viewer = openLiveViewer(ctx, this.demand, this.config, 'video/x-flv');
    if (this.ready) this.startViewer(viewer);
    else {
      // The camera or ffmpeg is still starting: the viewer waits and gets video as soon as it exists.
      const begin = (): void => this.startViewer(viewer);
      this.waiting.add(begin);
      viewer.onClose(() => this.waiting.delete(begin));
    }
  }

  async close(): Promise<void> {
    this.fanout.endAll();
    await this.demand.close();
  }

  private startViewer(viewer: Viewer): void {
    if (viewer.closed) return;
    viewer.sendRequired(this.reader.header!);
    if (this.metadata) viewer.sendRequired(this.metadata);
    viewer.sendRequired(this.sequenceHeader!);
    for (const tag of this.gop) viewer.sendRequired(tag.bytes);
    this.fanout.add(viewer);
  }

  private onTag(tag: FlvTag): void {
    if (this.timestampOffset > 0) rewriteTimestamp(tag, tag.timestamp + this.timestampOffset);
    this.lastTimestamp = tag.timestamp + this.timestampOffset;
    if (tag.type === FlvTagType.script) {
      this.metadata = tag.bytes;
      return;
    }
    if (tag.sequenceHeader) {
      this.sequenceHeader = tag.bytes;
      this.fanout.broadcast(tag.bytes, true);
      return;
    }
    if (tag.type !== FlvTagType.video) return;
    if (tag.keyframe) {
      this.gop = [];
      this.gopBytes = 0;
    }
    if (this.gop.length > 0 || tag.keyframe) {
      if (this.gopBytes + tag.bytes.length <= MAX_GOP_BYTES) {
        this.gop.push(tag);
        this.gopBytes += tag.bytes.length;
      }
    }
    this.fanout.broadcast(tag.bytes, tag.keyframe);
    if (this.waiting.size > 0 && this.ready) {
      const begin = [...this.waiting];
      this.waiting.clear();
      for (const start of begin) start();
    }
  }
}

/** Rewrites a tag's 24+8-bit timestamp in place (the tag's bytes are its own copy). */
function rewriteTimestamp(tag: FlvTag, timestamp: number): void {
  tag.bytes.writeUIntBE(timestamp & 0xffffff, 4, 3);
  tag.bytes[7] = (timestamp >>> 24) & 0xff;
}
