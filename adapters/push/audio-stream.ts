import type { RemoteInfo } from 'node:dgram';
import { performance } from 'node:perf_hooks';
import { plainAddress } from '../../lib/address.ts';
import type { AudioDepacketizer } from '../../media/rtp/audio-depacketizer.ts';
import { RtpAudioReceiver, type AudioReceiverCounters } from '../../media/rtp/audio-receiver.ts';
import { TrackSync, type ReportClock } from '../../media/rtp/track-sync.ts';
import type { AudioUnit } from '../types.ts';
import type { AudioTrack } from '../../media/types.ts';
import { isAudioPayloadType, type PushAudioCodec } from './codecs.ts';
import type { PortPair } from './ports.ts';
import { MAX_RTP_PACKET_BYTES } from './session.ts';
import { RTP_CLOCK_RATE } from './source-stream.ts';

/** Counters of a push stream's sound, for get_data and the log line at its end. */
export interface PushAudioCounters extends AudioReceiverCounters {
  /** `refused` also counts datagrams from another address or over the size limit. */
  readonly rtcpIn: number;
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
 * it, received by an RtpAudioReceiver (put in order, depacketized, times put on the picture's clock by sender reports of
 * both tracks where the publisher sends them, arrival times until then). A bad packet is dropped and counted; sound
 * never ends the stream.
 */
export class PushAudioStream {
  private readonly receiver: RtpAudioReceiver;
  private readonly sync: TrackSync;
  private rtcpIn = 0;
  private rtcpReturnPort: number | undefined;
  private closed = false;

  constructor(private readonly options: PushAudioOptions) {
    const track = options.depacketizer.track;
    this.sync = new TrackSync(track.clockRate, RTP_CLOCK_RATE);
    this.receiver = new RtpAudioReceiver({
      depacketizer: options.depacketizer,
      sync: this.sync,
      accepts: (packet) => packet.ssrc === options.ssrc && isAudioPayloadType(packet.payloadType, options.codec),
      onUnit: options.onUnit,
    });
    options.ports.rtp.on('message', (data, remote) => this.onRtp(data, remote));
    options.ports.rtcp.on('message', (data, remote) => this.onRtcp(data, remote));
    // A socket error costs the sound, not the picture.
    options.ports.rtp.on('error', () => {});
    options.ports.rtcp.on('error', () => {});
  }

  /** For get_data and the log line at the stream's end. */
  get counters(): PushAudioCounters {
    return { ...this.receiver.counters, rtcpIn: this.rtcpIn };
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
    this.receiver.stop();
  }

  /** A receiver report back to where the publisher's audio RTCP comes from, once it has sent some. */
  sendReport(): void {
    if (this.closed || this.rtcpReturnPort === undefined || this.receiver.counters.packets === 0) return;
    this.options.ports.rtcp.send(this.receiver.reporter.buildReport(performance.now()), this.rtcpReturnPort, this.options.publisher, () => {});
  }

  private onRtp(data: Buffer, remote: RemoteInfo): void {
    if (this.closed) return;
    if (plainAddress(remote.address) !== this.options.publisher || data.length > MAX_RTP_PACKET_BYTES) this.receiver.counters.refused++;
    else this.receiver.onRtp(data);
  }

  private onRtcp(data: Buffer, remote: RemoteInfo): void {
    if (this.closed || plainAddress(remote.address) !== this.options.publisher) return;
    if (data.length < 8 || data.readUInt32BE(4) !== this.options.ssrc) return;
    this.rtcpIn++;
    this.rtcpReturnPort = remote.port;
    this.receiver.onRtcp(data.subarray(0, MAX_RTP_PACKET_BYTES), this.options.ssrc);
  }
}
