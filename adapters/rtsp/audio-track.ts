import { performance } from 'node:perf_hooks';
import type { AudioTrack } from '../../media/types.ts';
import type { AudioUnit } from '../types.ts';
import type { AudioDepacketizer } from '../../media/rtp/audio-depacketizer.ts';
import { ReceiverReporter } from '../../media/rtp/rtcp.ts';
import { parseRtpPacket, RtpReorderer, type RtpPacket } from '../../media/rtp/rtp.ts';
import type { SdpMedia } from '../../media/rtsp/sdp.ts';
import { SDP_AUDIO_ENCODINGS } from '../../media/rtsp/sdp-audio.ts';
import { AacTimingCheck } from './aac-timing.ts';
import { ReportedClock, type SessionClock } from './report-clock.ts';

/** A sender-report alignment that moves this little from the one in use is left alone (report jitter, not drift). */
const REALIGN_MS = 20;

/** The first audio section in a codec the client reads; undefined (the camera is shown silent) if there is none. */
export function pickAudioMedia(media: readonly SdpMedia[]): SdpMedia | undefined {
  const names: readonly string[] = SDP_AUDIO_ENCODINGS;
  return media.find((section) => section.type === 'audio' && section.encoding !== undefined && names.includes(section.encoding));
}

/**
 * One received audio track: RTP packets in, audio frames out, counted for RTCP and put in order like video. Times are
 * milliseconds from the track's first packet, anchored at its arrival on the same clock the video track uses, until
 * sender reports of both tracks say where the sound belongs against the picture.
 */
export class AudioReceiver {
  private readonly reorderer = new RtpReorderer();
  private readonly payloadType: number;
  readonly reporter: ReceiverReporter;
  private readonly reported: ReportedClock;
  private readonly timing: AacTimingCheck | undefined;
  private anchor: number | undefined;
  /** The offset sender reports gave, once they have. */
  private reportedOffset: number | undefined;
  private lastTime = -Infinity;
  /** After an alignment moved the sound back, frames up to the last one sent are already heard: skipped. */
  private skipUntil = -Infinity;
  strayPackets = 0;

  constructor(
    media: SdpMedia,
    private readonly depacketizer: AudioDepacketizer,
    private readonly emit: (unit: AudioUnit) => void,
    private readonly session: SessionClock,
    private readonly onAligned: (shiftMs: number) => void = () => {},
  ) {
    this.payloadType = media.payloadTypes[0] ?? 0;
    this.reporter = new ReceiverReporter(depacketizer.track.clockRate);
    this.reported = new ReportedClock(depacketizer.track.clockRate);
    this.timing = AacTimingCheck.for(depacketizer.track, media.channels);
  }

  get codec(): string {
    return this.depacketizer.track.codec;
  }

  /** The track as the SDP describes it. */
  get track(): AudioTrack {
    return this.depacketizer.track;
  }

  onRtp(data: Buffer): void {
    let packet: RtpPacket;
    try {
      packet = parseRtpPacket(data);
    } catch {
      this.strayPackets++;
      return;
    }
    if (packet.payloadType !== this.payloadType) {
      this.strayPackets++;
      return;
    }
    const now = performance.now();
    this.anchor ??= this.session.since(now);
    this.reporter.onRtp(packet, now);
    for (const item of this.reorderer.push(packet, now)) {
      if ('lost' in item) {
        this.depacketizer.markLoss();
        continue;
      }
      for (const unit of this.depacketizer.push(item.packet).flatMap((frame) => this.timing?.push(frame) ?? [frame])) {
        this.reported.onFrame(unit.rtpTimestamp, unit.pts);
        const offset = this.offset(this.anchor);
        const time = offset + unit.pts;
        if (time <= this.skipUntil) continue;
        this.lastTime = time;
        this.emit({ track: unit.track, data: unit.data, keyframe: true, pts: time, dts: offset + unit.dts });
      }
    }
  }

  onRtcp(data: Buffer): void {
    this.reported.onReport(this.reporter.onRtcp(data, performance.now()));
  }

  /** The sender reports' offset where both tracks have one (kept while it moves less than REALIGN_MS), else arrival's. */
  private offset(arrivalAnchor: number): number {
    const reported = this.session.offsetOf(this.reported);
    if (reported === undefined) return this.reportedOffset ?? arrivalAnchor;
    const current = this.reportedOffset ?? arrivalAnchor;
    if (this.reportedOffset === undefined || Math.abs(reported - this.reportedOffset) > REALIGN_MS) {
      if (this.reportedOffset === undefined) this.onAligned(reported - arrivalAnchor);
      this.reportedOffset = reported;
      if (reported < current) this.skipUntil = this.lastTime;
    }
    return this.reportedOffset;
  }
}
