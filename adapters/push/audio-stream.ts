import type { RemoteInfo } from 'node:dgram';
import { performance } from 'node:perf_hooks';
import { plainAddress } from '../../lib/address.ts';
import type { AudioDepacketizer } from '../../media/rtp/audio-depacketizer.ts';
import { ReceiverReporter } from '../../media/rtp/rtcp.ts';
import { parseRtpPacket, RtpReorderer, type RtpPacket } from '../../media/rtp/rtp.ts';
import { TrackSync, type ReportClock } from '../../media/rtp/track-sync.ts';
import type { AudioUnit } from '../types.ts';
import type { AudioTrack } from '../../media/types.ts';
import { isAudioPayloadType, type PushAudioCodec } from './codecs.ts';
import type { PortPair } from './ports.ts';
import { MAX_RTP_PACKET_BYTES } from './session.ts';
import { RTP_CLOCK_RATE } from './source-stream.ts';

/** Counters of a push stream's sound, for get_data and the log line at its end. */
export interface PushAudioCounters {
  packets: number;
  frames: number;
  lost: number;
  /** Datagrams from another address, of another SSRC, not RTP, of another payload type, or with an unreadable payload. */
  refused: number;
  rtcpIn: number;
}

/** What a push stream's sound needs: its own port pair, the publisher, its SSRC and codec, and where units go. */
export interface PushAudioOptions {
  readonly ports: PortPair;
  readonly publisher: string;
  readonly ssrc: number;
  readonly codec: PushAudioCodec;
  readonly depacketizer: AudioDepacketizer;
  /** Each unit, on the picture's timeline, once the picture has a frame to place it against. */
  readonly onUnit: (unit: AudioUnit) => void;
}

/**
 * The sound of one push stream on its own port pair: only the publisher's address and the SSRC start_stream assigned to
 * it, packets put in order and depacketized, times put on the picture's clock (sender reports of both tracks where the
 * publisher sends them, arrival times until then). A bad packet is dropped and counted; sound never ends the stream.
 */
export class PushAudioStream {
  readonly counters: PushAudioCounters = { packets: 0, frames: 0, lost: 0, refused: 0, rtcpIn: 0 };
  private readonly reorderer = new RtpReorderer();
  private readonly reporter: ReceiverReporter;
  private readonly sync: TrackSync;
  private rtcpReturnPort: number | undefined;
  private closed = false;

  constructor(private readonly options: PushAudioOptions) {
    const track = options.depacketizer.track;
    this.reporter = new ReceiverReporter(track.clockRate);
    this.sync = new TrackSync(track.clockRate, RTP_CLOCK_RATE);
    options.ports.rtp.on('message', (data, remote) => this.onRtp(data, remote));
    options.ports.rtcp.on('message', (data, remote) => this.onRtcp(data, remote));
    // A socket error costs the sound, not the picture.
    options.ports.rtp.on('error', () => {});
    options.ports.rtcp.on('error', () => {});
  }

  get track(): AudioTrack {
    return this.options.depacketizer.track;
  }

  get codec(): PushAudioCodec {
    return this.options.codec;
  }

  get rtpPort(): number {
    return this.options.ports.rtpPort;
  }

  /** Whether the sound is placed by sender reports (lip sync by the publisher's clock) rather than arrival times. */
  get synced(): boolean {
    return this.sync.synced;
  }

  /** A frame of the picture: what the sound's times are placed against. */
  noteVideoFrame(rtpTimestamp: number, ms: number): void {
    this.sync.noteReference(rtpTimestamp, ms, performance.now());
  }

  /** A sender report of the picture's SSRC. */
  noteVideoReport(report: ReportClock): void {
    this.sync.noteReferenceReport(report);
  }

  close(): void {
    this.closed = true;
  }

  /** A receiver report back to where the publisher's audio RTCP comes from, once it has sent some. */
  sendReport(): void {
    if (this.closed || this.rtcpReturnPort === undefined || this.counters.packets === 0) return;
    this.options.ports.rtcp.send(this.reporter.buildReport(performance.now()), this.rtcpReturnPort, this.options.publisher, () => {});
  }

  private onRtp(data: Buffer, remote: RemoteInfo): void {
    if (this.closed) return;
    let packet: RtpPacket;
    try {
      if (plainAddress(remote.address) !== this.options.publisher || data.length > MAX_RTP_PACKET_BYTES) throw new Error('refused');
      packet = parseRtpPacket(data);
    } catch {
      this.counters.refused++;
      return;
    }
    if (packet.ssrc !== this.options.ssrc || !isAudioPayloadType(packet.payloadType, this.options.codec)) {
      this.counters.refused++;
      return;
    }
    const now = performance.now();
    this.counters.packets++;
    this.reporter.onRtp(packet, now);
    for (const item of this.reorderer.push(packet, now)) {
      if ('lost' in item) {
        this.counters.lost += item.lost;
        this.options.depacketizer.markLoss();
        continue;
      }
      let units;
      try {
        units = this.options.depacketizer.push(item.packet);
      } catch {
        this.counters.refused++; // a payload the depacketizer cannot read: one bad packet
        this.options.depacketizer.markLoss();
        continue;
      }
      for (const unit of units) {
        const pts = this.sync.place(unit.pts, unit.rtpTimestamp, now);
        if (pts === undefined) continue; // no picture yet to place it against, or behind the sound already sent
        this.counters.frames++;
        this.options.onUnit({ track: unit.track, data: unit.data, keyframe: true, pts, dts: pts });
      }
    }
  }

  private onRtcp(data: Buffer, remote: RemoteInfo): void {
    if (this.closed || plainAddress(remote.address) !== this.options.publisher) return;
    if (data.length < 8 || data.readUInt32BE(4) !== this.options.ssrc) return;
    this.counters.rtcpIn++;
    this.rtcpReturnPort = remote.port;
    const report = this.reporter.onRtcp(data.subarray(0, MAX_RTP_PACKET_BYTES), performance.now(), this.options.ssrc);
    if (report) this.sync.noteOwnReport(report);
  }
}
