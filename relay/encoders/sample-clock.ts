/** Samples of encoder delay at the start of ffmpeg's AAC output (its priming frame), in output samples. */
export const AAC_PRIMING_SAMPLES = 1024;
/** Anchors kept at most: a converter that falls this far behind has stalled, and is restarted anyway. */
const MAX_ANCHORS = 2_000;

/**
 * Camera times for a converter that reads raw samples: each input frame leaves an anchor (its first sample's number
 * and its camera time), and an output frame's time is its first sample's time by the last anchor at or before it. So a
 * gap in the camera's audio stays a gap, and output frames keep the times of the samples they carry.
 */
export class SampleClock {
  private anchors: Array<{ sample: number; time: number }> = [];
  private written = 0;
  private read: number;

  /** `outputPerInput`: output samples per input sample (resampling); `primingSamples`: the encoder's delay at its start. */
  constructor(private readonly outputRate: number, private readonly outputPerInput: number, primingSamples = AAC_PRIMING_SAMPLES) {
    this.read = -primingSamples;
  }

  /** An input frame of `samples` samples whose first is at camera time `time`. */
  wrote(samples: number, time: number): void {
    this.anchors.push({ sample: this.written, time });
    if (this.anchors.length > MAX_ANCHORS) this.anchors.shift();
    this.written += samples * this.outputPerInput;
  }

  /** The camera time of the next output frame, which holds `samples` samples; undefined before any input. */
  next(samples: number): number | undefined {
    const at = Math.max(0, this.read);
    this.read += samples;
    while (this.anchors.length > 1 && this.anchors[1]!.sample <= at) this.anchors.shift();
    const anchor = this.anchors[0];
    if (!anchor) return undefined;
    return anchor.time + ((at - anchor.sample) * 1000) / this.outputRate;
  }
}
