import type { AdapterSink, AudioUnit } from '../../adapters/types.ts';
import { isH264Unit, type VideoUnit } from '../../media/types.ts';
import { withParameterSets } from '../../media/h264/params.ts';
import { toAnnexB } from '../../media/h264/annexb.ts';

/** A frame's payload as one buffer, as a file holds it: an H.264 unit's NAL units in Annex B (4-byte start codes), SPS and PPS in front of keyframes. */
export function payloadBytes(frame: VideoUnit): Buffer {
  return isH264Unit(frame) ? toAnnexB(withParameterSets(frame)) : frame.data;
}

/** A unit's own NAL units in Annex B, without its track's SPS and PPS. */
export function nalBytes(frame: VideoUnit): Buffer {
  return isH264Unit(frame) ? toAnnexB(frame.data) : frame.data;
}


/** An AdapterSink that records what an adapter yields, with helpers to wait for frames. */
export class RecordingSink implements AdapterSink {
  readonly controller = new AbortController();
  readonly frames: VideoUnit[] = [];
  readonly audio: AudioUnit[] = [];
  readonly logs: string[] = [];
  connectedAt: number | undefined;
  private waiters: Array<{ count: number; resolve: () => void }> = [];

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  onFrame(frame: VideoUnit): void {
    this.frames.push(frame);
    this.waiters = this.waiters.filter((waiter) => {
      if (this.frames.length < waiter.count) return true;
      waiter.resolve();
      return false;
    });
  }

  onAudio(unit: AudioUnit): void {
    this.audio.push(unit);
  }

  onConnected(): void {
    this.connectedAt ??= Date.now();
  }

  waitingSince: number | undefined;
  onWaiting(): void {
    this.waitingSince ??= Date.now();
  }

  log(message: string): void {
    this.logs.push(message);
  }

  /** Resolves once `count` frames in total have arrived; rejects after `timeoutMs`. */
  waitForFrames(count: number, timeoutMs = 10_000): Promise<void> {
    if (this.frames.length >= count) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`only ${this.frames.length} of ${count} frames in ${timeoutMs} ms`)), timeoutMs);
      this.waiters.push({ count, resolve: () => { clearTimeout(timer); resolve(); } });
    });
  }

  stop(): void {
    this.controller.abort();
  }
}
