import { performance } from 'node:perf_hooks';
import type { AudioTrack } from '../../media/types.ts';
import type { AudioUnit } from '../types.ts';
import type { AudioDepacketizer } from '../../media/rtp/audio-depacketizer.ts';
import { ReceiverReporter } from '../../media/rtp/rtcp.ts';
import { parseRtpPacket, RtpReorderer, type RtpPacket } from '../../media/rtp/rtp.ts';
import type { TrackSync } from '../../media/rtp/track-sync.ts';
import type { SdpMedia } from '../../media/rtsp/sdp.ts';
import { SDP_AUDIO_ENCODINGS } from '../../media/rtsp/sdp-audio.ts';
import { AacTimingCheck } from './aac-timing.ts';

/** The first audio section in a codec the client reads; undefined (the camera is shown silent) if there is none. */
export function pickAudioMedia(media: readonly SdpMedia[]): SdpMedia | undefined {
  const names: readonly string[] = SDP_AUDIO_ENCODINGS;
  return media.find((section) => section.type === 'audio' && section.encoding !== undefined && names.includes(section.encoding));
}

/**
 * One received audio track: RTP packets in, audio frames out, counted for RTCP and put in order like video. `sync`
 * puts its times on the video track's timeline (the session's clock, `since`): by arrival, until sender reports of both
 * tracks say where the sound belongs against the picture.
 */
export class AudioReceiver {
  private readonly reorderer = new RtpReorderer();
  private readonly payloadType: number;
  readonly reporter: ReceiverReporter;
  private readonly timing: AacTimingCheck | undefined;
  strayPackets = 0;

  constructor(
    media: SdpMedia,
    private readonly depacketizer: AudioDepacketizer,
    private readonly emit: (unit: AudioUnit) => void,
    private readonly sync: TrackSync,
    private readonly since: (now: number) => number,
  ) {
    this.payloadType = media.payloadTypes[0] ?? 0;
    this.reporter = new ReceiverReporter(depacketizer.track.clockRate);
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
    this.sync.noteStart(this.since(now), now); // sound before the picture goes by arrival on the session's clock
    this.reporter.onRtp(packet, now);
    for (const item of this.reorderer.push(packet, now)) {
      if ('lost' in item) {
        this.depacketizer.markLoss();
        continue;
      }
      for (const unit of this.depacketizer.push(item.packet).flatMap((frame) => this.timing?.push(frame) ?? [frame])) {
        const time = this.sync.place(unit.pts, unit.rtpTimestamp, now);
        if (time === undefined) continue; // no picture yet to place it against, or behind the sound already sent
        this.emit({ track: unit.track, data: unit.data, keyframe: true, pts: time, dts: time - unit.pts + unit.dts });
      }
    }
  }

  onRtcp(data: Buffer): void {
    const report = this.reporter.onRtcp(data, performance.now());
    if (report) this.sync.noteOwnReport(report);
  }
}
