/**
 * The clock of one RTSP session: milliseconds since the first packet of any of its tracks arrived. The picture and
 * the sound both count from it, so their times start on one origin (lip sync depends on it).
 */
export class SessionClock {
  private origin: number | undefined;

  /** The session's time at `now` (performance.now() of an arrival); the first call of any track sets the origin. */
  at(now: number): number {
    this.origin ??= now;
    return now - this.origin;
  }
}
