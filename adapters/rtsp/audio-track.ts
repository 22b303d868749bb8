import { performance } from 'node:perf_hooks';
import { AdapterError } from '../errors.ts';
import type { AudioUnit } from '../types.ts';
import { AacHbrDepacketizer, auHeaderLayout } from '../../media/rtp/aac-depacketizer.ts';
import type { AudioDepacketizer } from '../../media/rtp/audio-depacketizer.ts';
import { g711Depacketizer, g711Track } from '../../media/rtp/g711.ts';
import { LatmDepacketizer } from '../../media/rtp/latm-depacketizer.ts';
import { opusDepacketizer, opusTrack } from '../../media/rtp/opus.ts';
import { ReceiverReporter } from '../../media/rtp/rtcp.ts';
import { parseRtpPacket, RtpReorderer, type RtpPacket } from '../../media/rtp/rtp.ts';
import type { SdpMedia } from '../../media/rtsp/sdp.ts';

/** The audio codecs the client reads, by SDP encoding name. */
const SUPPORTED = new Set(['MPEG4-GENERIC', 'MP4A-LATM', 'PCMA', 'PCMU', 'OPUS']);

/** The first audio section in a codec the client reads; undefined (the camera is shown silent) if there is none. */
export function pickAudioMedia(media: readonly SdpMedia[]): SdpMedia | undefined {
  return media.find((section) => section.type === 'audio' && section.encoding !== undefined && SUPPORTED.has(section.encoding));
}

/** The depacketizer an audio section asks for; PROTOCOL when its parameters are missing or unreadable. */
export function audioDepacketizer(media: SdpMedia): AudioDepacketizer {
  const hex = media.fmtp.get('config');
  const config = (): Buffer => {
    if (!hex || !/^([0-9a-f]{2}){1,64}$/i.test(hex)) throw new AdapterError('PROTOCOL', `SDP: ${media.encoding} audio without a readable config`);
    return Buffer.from(hex, 'hex');
  };
  try {
    switch (media.encoding) {
      case 'MPEG4-GENERIC':
        return new AacHbrDepacketizer(config(), auHeaderLayout(media.fmtp));
      case 'MP4A-LATM':
        return new LatmDepacketizer(config());
      case 'PCMA':
      case 'PCMU':
        return g711Depacketizer(g711Track(media.encoding === 'PCMA' ? 'pcma' : 'pcmu', media.clockRate ?? 8000));
      default:
        return opusDepacketizer(opusTrack());
    }
  } catch (error) {
    if (error instanceof AdapterError) throw error;
    throw new AdapterError('PROTOCOL', `SDP: ${media.encoding} audio: ${(error as Error).message}`);
  }
}

/**
 * One received audio track: RTP packets in, audio frames out, counted for RTCP and put in order like video. Times are
 * milliseconds from the track's first packet, anchored at its arrival on the same clock the video track uses.
 */
export class AudioReceiver {
  private readonly reorderer = new RtpReorderer();
  private readonly payloadType: number;
  readonly reporter: ReceiverReporter;
  private anchor: number | undefined;
  strayPackets = 0;

  constructor(media: SdpMedia, private readonly depacketizer: AudioDepacketizer, private readonly emit: (unit: AudioUnit) => void) {
    this.payloadType = media.payloadTypes[0] ?? 0;
    this.reporter = new ReceiverReporter(depacketizer.track.clockRate);
  }

  get codec(): string {
    return this.depacketizer.track.codec;
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
    this.anchor ??= now;
    this.reporter.onRtp(packet, now);
    for (const item of this.reorderer.push(packet, now)) {
      if ('lost' in item) {
        this.depacketizer.markLoss();
        continue;
      }
      for (const unit of this.depacketizer.push(item.packet)) {
        this.emit({ track: unit.track, data: unit.data, keyframe: true, pts: this.anchor + unit.pts, dts: this.anchor + unit.dts });
      }
    }
  }

  onRtcp(data: Buffer): void {
    this.reporter.onRtcp(data, performance.now());
  }
}
