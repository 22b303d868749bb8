/** FollowSSRC takes a new SSRC only after the current one has been silent at least this long (and twice its longest gap). */
export const MIN_RESTART_SILENCE_MS = 500;
/** A new SSRC on trial that has not given a decodable unit within this long may be replaced by another. */
const TRIAL_MS = 2000;

/** How regularly one SSRC's packets come, which tells a sender's restart from packets slipped in between its own. */
export class SsrcPacing {
  /** performance.now() of the first and the last packet. */
  firstAt: number | undefined;
  lastAt: number | undefined;
  /** The longest wait between two of its packets. */
  longestGapMs = 0;
  /** Packets heard, whatever became of them. */
  arrivals = 0;

  /** One packet of this SSRC arrived at `nowMs`. */
  note(nowMs: number): void {
    if (this.lastAt !== undefined) this.longestGapMs = Math.max(this.longestGapMs, nowMs - this.lastAt);
    this.firstAt ??= nowMs;
    this.lastAt = nowMs;
    this.arrivals++;
  }

  /**
   * Whether the SSRC has fallen silent as a restarted sender does: it sent, then nothing for at least
   * MIN_RESTART_SILENCE_MS and twice the longest gap it ever had (a slow publisher's pause between packets is no restart).
   */
  silentForRestart(nowMs: number): boolean {
    if (this.lastAt === undefined) return false;
    return nowMs - this.lastAt >= Math.max(MIN_RESTART_SILENCE_MS, 2 * this.longestGapMs);
  }

  /** Whether an SSRC on trial has had its time to give a decodable unit, so another may take its place. */
  trialOver(nowMs: number): boolean {
    return this.firstAt !== undefined && nowMs - this.firstAt > TRIAL_MS;
  }
}

/** The receive path of one SSRC, as the follow rule sees it. */
export interface FollowedSource {
  readonly ssrc: number;
  readonly pacing: SsrcPacing;
}

/**
 * The rule by which a push stream's picture and sound each take their packets: the SSRC start_stream assigned and,
 * with FollowSSRC, a publisher's restart: once the current SSRC is silent as a restarted sender's would be, one new SSRC
 * goes on trial and becomes current when its owner finds a decodable unit in it (`promote`). One trial at a time, so
 * packets slipped in under other SSRCs cannot take turns with the publisher's; the current SSRC speaking again ends it.
 */
export class SsrcFollower<Source extends FollowedSource> {
  private currentSource: Source;
  private trialSource: Source | undefined;

  constructor(
    first: Source,
    private readonly follow: boolean,
    /** A fresh receive path for an SSRC put on trial. */
    private readonly create: (ssrc: number) => Source,
  ) {
    this.currentSource = first;
  }

  get current(): Source {
    return this.currentSource;
  }

  get trial(): Source | undefined {
    return this.trialSource;
  }

  /** Whether a packet of `ssrc` may be read at all: the current SSRC's, or another's once the current one fell silent. */
  admits(ssrc: number, nowMs: number): boolean {
    return ssrc === this.currentSource.ssrc || (this.follow && this.currentSource.pacing.silentForRestart(nowMs));
  }

  /**
   * The source an admitted packet of `ssrc` goes to, its arrival noted: the current one (ending any trial), the one on
   * trial (a new trial if none runs, or if the last one had its time), or undefined while another SSRC is on trial.
   */
  take(ssrc: number, nowMs: number): Source | undefined {
    if (ssrc === this.currentSource.ssrc) {
      this.trialSource = undefined;
      return this.noted(this.currentSource, nowMs);
    }
    if (this.trialSource && this.trialSource.ssrc !== ssrc) {
      if (!this.trialSource.pacing.trialOver(nowMs)) return undefined;
      this.trialSource = undefined;
    }
    return this.noted((this.trialSource ??= this.create(ssrc)), nowMs);
  }

  /** The source on trial gave a decodable unit: it is the current one from now on; returns the one it replaces. */
  promote(): Source {
    const replaced = this.currentSource;
    if (this.trialSource) this.currentSource = this.trialSource;
    this.trialSource = undefined;
    return replaced;
  }

  /** The source on trial failed (e.g. a frame past MaxFrameSize): the next new SSRC may try. */
  endTrial(): void {
    this.trialSource = undefined;
  }

  private noted(source: Source, nowMs: number): Source {
    source.pacing.note(nowMs);
    return source;
  }
}
