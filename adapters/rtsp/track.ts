import { performance } from 'node:perf_hooks';
import { AdapterError } from '../errors.ts';
import { H264UnitBuilder } from '../../media/h264/units.ts';
import { jpegUnit } from '../../media/types.ts';
import { H264Depacketizer, parseSpropParameterSets } from '../../media/rtp/h264-depacketizer.ts';
import { JpegDepacketizer } from '../../media/rtp/jpeg-depacketizer.ts';
import { ReceiverReporter, type SenderReport } from '../../media/rtp/rtcp.ts';
import { parseRtpPacket, RtpClock, RtpReorderer, type RtpPacket } from '../../media/rtp/rtp.ts';
import type { TrackSync } from '../../media/rtp/track-sync.ts';
import type { SdpMedia } from '../../media/rtsp/sdp.ts';
import type { RtpReceiver } from './connection.ts';
import type { SessionClock } from './session-clock.ts';
import type { AdapterSink } from '../types.ts';

/** The video codecs the client can depacketize, by SDP encoding name. */
const SUPPORTED = new Set(['H264', 'JPEG']);

/** The first video section of a session description whose codec the client speaks; PROTOCOL if there is none. */
export function pickVideoMedia(media: readonly SdpMedia[]): SdpMedia {
  const video = media.filter((section) => section.type === 'video');
  if (video.length === 0) throw new AdapterError('PROTOCOL', 'SDP: no video track');
  const usable = video.find((section) => section.encoding !== undefined && SUPPORTED.has(section.encoding));
  if (!usable) {
    const names = video.map((section) => section.encoding ?? 'unknown').join(', ');
    throw new AdapterError('PROTOCOL', `SDP: no video track in a supported codec (offered: ${names.slice(0, 80)})`);
  }
  return usable;
}

/**
 * One received video track: RTP packets in, straight from the connection or the UDP socket, frames out. Packets are
 * counted for RTCP and put in order (by the reorderer), depacketized, and their RTP timestamps turned into monotonic
 * milliseconds on the session's clock. The session's audio is aligned to it.
 */
export class VideoTrack implements RtpReceiver {
  private readonly payloadType: number;
  private readonly reorderer: RtpReorderer;
  private readonly clock: RtpClock;
  private readonly h264: H264Depacketizer | undefined;
  private readonly jpeg: JpegDepacketizer | undefined;
  private readonly units = new H264UnitBuilder();
  readonly reporter: ReceiverReporter;
  readonly clockRate: number;
  /** The audio track's alignment, told of each frame and sender report: the sound is placed against the picture. */
  private audioSync: TrackSync | undefined;
  private lastReport: SenderReport | undefined;
  /** Packets that were not RTP or not of this track's payload type. */
  strayPackets = 0;
  /** performance.now() of the last packet on the track's channel, whatever it held: the session's data watchdog reads it. */
  lastPacketAt: number | undefined;
  /** The first packet's arrival on the session's clock: times count from it, as the audio track's do. */
  private anchor: number | undefined;

  /** `sessionClock` is the session's, shared with its audio track; each finished frame goes to `sink.onFrame`. */
  constructor(media: SdpMedia, maxFrameBytes: number, private readonly sink: Pick<AdapterSink, 'onFrame'>, private readonly sessionClock: SessionClock) {
    const clockRate = media.clockRate ?? 90_000;
    this.clockRate = clockRate;
    this.payloadType = media.payloadTypes[0] ?? 0;
    this.clock = new RtpClock(clockRate);
    this.reporter = new ReceiverReporter(clockRate);
    this.reorderer = RtpReorderer.counting(this.reporter.reception);
    if (media.encoding === 'H264') {
      this.h264 = new H264Depacketizer(maxFrameBytes, parseSpropParameterSets(media.fmtp.get('sprop-parameter-sets')));
    } else {
      this.jpeg = new JpegDepacketizer(maxFrameBytes);
    }
  }

  /** Feeds one RTP packet as it arrived; throws AdapterError('PROTOCOL') only for limits the camera broke. */
  onRtp(data: Buffer): void {
    const now = performance.now();
    this.lastPacketAt = now;
    let packet: RtpPacket;
    try {
      packet = parseRtpPacket(data);
    } catch {
      this.strayPackets++; // one garbled datagram is not worth the stream
      return;
    }
    if (packet.payloadType !== this.payloadType) {
      this.strayPackets++;
      return;
    }
    this.anchor ??= this.sessionClock.at(now);
    for (const item of this.reorderer.push(packet, now)) {
      if ('lost' in item) {
        this.h264?.markLoss();
        this.jpeg?.markLoss();
        continue;
      }
      this.depacketize(item.packet);
    }
  }

  /** Feeds one RTCP packet from the camera. */
  onRtcp(data: Buffer): void {
    const report = this.reporter.onRtcp(data, performance.now());
    if (!report) return;
    this.lastReport = report;
    this.audioSync?.noteReferenceReport(report);
  }

  /** Tells `sync` (the audio track's) of this track's frames and sender reports from now on. */
  alignAudio(sync: TrackSync): void {
    this.audioSync = sync;
    if (this.lastReport) sync.noteReferenceReport(this.lastReport);
  }

  /** Frames dropped because of loss or damage, for the log. */
  get droppedFrames(): number {
    return (this.h264?.droppedUnits ?? 0) + (this.jpeg?.droppedImages ?? 0) + this.units.dropped;
  }

  private depacketize(packet: RtpPacket): void {
    if (this.h264) {
      for (const unit of this.h264.push(packet)) {
        const time = this.trackMs(unit.rtpTimestamp);
        const out = this.units.unit(unit.data, time, time, unit.keyframe);
        if (out) this.sink.onFrame(out);
      }
    } else if (this.jpeg) {
      for (const image of this.jpeg.push(packet)) {
        this.sink.onFrame(jpegUnit(image.data, this.trackMs(image.rtpTimestamp)));
      }
    }
  }

  private trackMs(rtpTimestamp: number): number {
    const ms = (this.anchor ?? 0) + this.clock.toMs(rtpTimestamp);
    this.audioSync?.noteReference(rtpTimestamp, ms, performance.now());
    return ms;
  }
}
