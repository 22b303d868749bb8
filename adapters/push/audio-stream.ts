import type { RemoteInfo } from 'node:dgram';
import { performance } from 'node:perf_hooks';
import { plainAddress } from '../../lib/address.ts';
import type { AudioDepacketizer, RtpAudioUnit } from '../../media/rtp/audio-depacketizer.ts';
import { RtpAudioReceiver, type AudioReceiverCounters } from '../../media/rtp/audio-receiver.ts';
import { parseRtpPacket, type RtpPacket } from '../../media/rtp/rtp.ts';
import { TrackSync, type ReportClock } from '../../media/rtp/track-sync.ts';
import type { AudioUnit } from '../types.ts';
import type { AudioTrack } from '../../media/types.ts';
import { isAudioPayloadType, isDecodableAudio, type PushAudioCodec } from './codecs.ts';
import type { PortPair } from './ports.ts';
import { MAX_RTP_PACKET_BYTES } from './session.ts';
import { RTP_CLOCK_RATE } from './source-stream.ts';
import { SsrcFollower, SsrcPacing } from './ssrc-follow.ts';

/** Counters of a push stream's sound, for get_data and the log line at its end. */
export interface PushAudioCounters extends AudioReceiverCounters {
  /** `refused` also counts datagrams from another address or over the size limit, and packets of other SSRCs. */
  readonly rtcpIn: number;
}

/** What a push stream's sound needs: its own port pair, the publisher, its SSRC and codec, and where units go. */
export interface PushAudioOptions {
  readonly ports: PortPair;
  readonly publisher: string;
  readonly ssrc: number;
  readonly codec: PushAudioCodec;
  /** A fresh depacketizer, one for each SSRC the sound is read from (the first gives the track). */
  readonly depacketizer: () => AudioDepacketizer;
  /** With FollowSSRC, a publisher's restart is followed: a new SSRC after a restarted sender's silence. */
  readonly followSsrc: boolean;
  /** Each unit, on the picture's timeline, once the picture has a frame to place it against. */
  readonly onUnit: (unit: AudioUnit) => void;
}

/** The sound as read from one SSRC. */
interface AudioSource {
  readonly ssrc: number;
  readonly pacing: SsrcPacing;
  readonly receiver: RtpAudioReceiver;
}

/**
 * The sound of one push stream on its own port pair: only the publisher's address and the SSRC start_stream assigned to
 * it (with FollowSSRC, by the picture's rule, a new SSRC after a restarted sender's silence, taken on a unit a decoder
 * can start on), received by an RtpAudioReceiver (put in order, depacketized, times put on the picture's clock by
 * sender reports of both tracks where the publisher sends them, arrival times until then). A bad packet is dropped and
 * counted; sound never ends the stream.
 */
export class PushAudioStream {
  readonly track: AudioTrack;
  private readonly sync: TrackSync;
  private readonly sources: SsrcFollower<AudioSource>;
  /** Counters of the SSRCs read before the current one. */
  private readonly before: AudioReceiverCounters = { packets: 0, frames: 0, lost: 0, refused: 0 };
  /** Datagrams refused before any SSRC's receiver saw them, and the packets of SSRCs on trial. */
  private refused = 0;
  private rtcpIn = 0;
  private rtcpReturnPort: number | undefined;
  private closed = false;

  constructor(private readonly options: PushAudioOptions) {
    const depacketizer = options.depacketizer();
    this.track = depacketizer.track;
    this.sync = new TrackSync(this.track.clockRate, RTP_CLOCK_RATE);
    this.sources = new SsrcFollower(this.source(options.ssrc, depacketizer), options.followSsrc, (ssrc) => this.source(ssrc, options.depacketizer()));
    options.ports.rtp.on('message', (data, remote) => this.onRtp(data, remote));
    options.ports.rtcp.on('message', (data, remote) => this.onRtcp(data, remote));
    // A socket error costs the sound, not the picture.
    options.ports.rtp.on('error', () => {});
    options.ports.rtcp.on('error', () => {});
  }

  /** For get_data and the log line at the stream's end. */
  get counters(): PushAudioCounters {
    const current = this.sources.current.receiver.counters;
    return {
      packets: this.before.packets + current.packets,
      frames: this.before.frames + current.frames,
      lost: this.before.lost + current.lost,
      refused: this.before.refused + current.refused + this.refused,
      rtcpIn: this.rtcpIn,
    };
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

  /** The picture follows a restarted publisher's new SSRC: its old frames and reports no longer place the sound. */
  noteVideoRestart(): void {
    this.sync.restartReference();
  }

  close(): void {
    this.closed = true;
    this.sources.current.receiver.stop();
  }

  /** A receiver report back to where the publisher's audio RTCP comes from, once it has sent some. */
  sendReport(): void {
    const receiver = this.sources.current.receiver;
    if (this.closed || this.rtcpReturnPort === undefined || receiver.counters.packets === 0) return;
    this.options.ports.rtcp.send(receiver.reporter.buildReport(performance.now()), this.rtcpReturnPort, this.options.publisher, () => {});
  }

  private source(ssrc: number, depacketizer: AudioDepacketizer): AudioSource {
    const source: AudioSource = {
      ssrc,
      pacing: new SsrcPacing(),
      receiver: new RtpAudioReceiver({
        depacketizer,
        sync: this.sync,
        accepts: () => true, // its SSRC and payload type were looked at before it got the packet
        onUnit: (unit) => this.options.onUnit(unit),
        check: (unit) => this.judge(source, unit),
      }),
    };
    return source;
  }

  /** Lets the current SSRC's units through; an SSRC on trial becomes the sound's with its first decodable unit. */
  private judge(source: AudioSource, unit: RtpAudioUnit): RtpAudioUnit[] {
    if (source === this.sources.current) return [unit];
    if (source !== this.sources.trial || !isDecodableAudio(this.options.codec, unit)) return [];
    this.refused -= source.pacing.arrivals; // counted as refused while on trial, taken now
    const replaced = this.sources.promote().receiver;
    replaced.stop();
    for (const key of ['packets', 'frames', 'lost', 'refused'] as const) this.before[key] += replaced.counters[key];
    this.rtcpReturnPort = undefined; // receiver reports go to the new sender's RTCP once it sends some
    this.sync.restartOwn();
    return [unit];
  }

  private onRtp(data: Buffer, remote: RemoteInfo): void {
    if (this.closed) return;
    if (plainAddress(remote.address) !== this.options.publisher || data.length > MAX_RTP_PACKET_BYTES) {
      this.refused++;
      return;
    }
    let packet: RtpPacket | undefined;
    try {
      packet = parseRtpPacket(data);
    } catch {
      // not RTP: refused below, one garbled datagram is not worth the sound
    }
    const now = performance.now();
    // Another SSRC is refused before anything else is read from it, unless FollowSSRC may take it as a restart.
    if (!packet || !this.sources.admits(packet.ssrc, now) || !isAudioPayloadType(packet.payloadType, this.options.codec)) {
      this.refused++;
      return;
    }
    const source = this.sources.take(packet.ssrc, now);
    if (source !== this.sources.current) this.refused++; // on trial (or another SSRC is): refused unless it is taken
    source?.receiver.onPacket(packet);
  }

  private onRtcp(data: Buffer, remote: RemoteInfo): void {
    const current = this.sources.current;
    if (this.closed || plainAddress(remote.address) !== this.options.publisher) return;
    if (data.length < 8 || data.readUInt32BE(4) !== current.ssrc) return;
    this.rtcpIn++;
    this.rtcpReturnPort = remote.port;
    current.receiver.onRtcp(data.subarray(0, MAX_RTP_PACKET_BYTES), current.ssrc);
  }
}
