import { ProtocolError } from '../errors.ts';
import { AacHbrDepacketizer, auHeaderLayout } from '../rtp/aac-depacketizer.ts';
import { aacHbrFmtpParameters } from '../rtp/aac-packetizer.ts';
import type { AudioDepacketizer } from '../rtp/audio-depacketizer.ts';
import { G711_PAYLOAD_TYPE, g711Depacketizer, g711Track } from '../rtp/g711.ts';
import { LatmDepacketizer } from '../rtp/latm-depacketizer.ts';
import { OPUS_CLOCK_RATE, opusDepacketizer, opusTrack } from '../rtp/opus.ts';
import type { AudioTrack } from '../types.ts';
import type { SdpMedia } from './sdp.ts';

/** Audio encodings the relay reads from an SDP, as rtpmap names them (upper-cased). */
export const SDP_AUDIO_ENCODINGS = ['MPEG4-GENERIC', 'MP4A-LATM', 'PCMA', 'PCMU', 'OPUS'] as const;

function audioError(media: SdpMedia, message: string): ProtocolError {
  return new ProtocolError(`SDP audio (${media.encoding ?? `payload type ${media.payloadTypes[0] ?? '?'}`}): ${message}`);
}

function hexParameter(media: SdpMedia, name: string): Buffer {
  const text = media.fmtp.get(name);
  if (!text || !/^([0-9a-f]{2})+$/i.test(text)) throw audioError(media, `fmtp ${name} is missing or not hex`);
  return Buffer.from(text, 'hex');
}

/**
 * The depacketizer for an audio m= section, which also says the track it yields (codec, rates, channels, AAC config).
 * Throws a ProtocolError naming what is wrong: an unsupported codec, a missing or bad config, an unsupported mode.
 */
export function createAudioDepacketizer(media: SdpMedia): AudioDepacketizer {
  if (media.type !== 'audio') throw audioError(media, `a ${media.type} section is not audio`);
  const clockRate = media.clockRate;
  switch (media.encoding) {
    case 'MPEG4-GENERIC': {
      const mode = (media.fmtp.get('mode') ?? '').toLowerCase();
      if (mode !== 'aac-hbr' && mode !== 'aac-lbr') throw audioError(media, `mode ${mode || '(none)'} is not AAC-hbr or AAC-lbr`);
      return new AacHbrDepacketizer(hexParameter(media, 'config'), auHeaderLayout(media.fmtp), clockRate);
    }
    case 'MP4A-LATM':
      // RFC 6416 makes cpresent=1 (configuration in the stream) the default; cameras and ffmpeg send cpresent=0.
      if (media.fmtp.get('cpresent') !== '0') throw audioError(media, 'only cpresent=0 (StreamMuxConfig in the SDP) is read');
      return new LatmDepacketizer(hexParameter(media, 'config'), clockRate);
    case 'PCMA':
    case 'PCMU': {
      const channels = media.channels ?? 1;
      if (channels < 1 || channels > 8) throw audioError(media, `${channels} channels`);
      return g711Depacketizer(g711Track(media.encoding === 'PCMA' ? 'pcma' : 'pcmu', clockRate ?? 8000, channels));
    }
    case 'OPUS': {
      if (clockRate !== OPUS_CLOCK_RATE) throw audioError(media, `clock rate ${clockRate ?? 'missing'}, RFC 7587 says 48000`);
      const stereo = media.fmtp.get('sprop-stereo') === '1' || media.fmtp.get('stereo') === '1';
      return opusDepacketizer(opusTrack(stereo ? 2 : 1));
    }
    default:
      throw audioError(media, `codec not supported (the relay reads ${SDP_AUDIO_ENCODINGS.join(', ')})`);
  }
}

/** The track an audio m= section describes; the same checks as createAudioDepacketizer. */
export function audioTrackFromSdp(media: SdpMedia): AudioTrack {
  return createAudioDepacketizer(media).track;
}

/**
 * The m= section lines for sending `track` over RTP as the relay's packetizers do: AAC as mpeg4-generic AAC-hbr,
 * G.711 on its static payload type, Opus as RFC 7587 says. `payloadType` is used for AAC and Opus.
 */
export function audioMediaLines(track: AudioTrack, payloadType: number, control: string): string[] {
  switch (track.codec) {
    case 'aac': {
      if (!track.config) throw new ProtocolError('SDP audio: an AAC track without its AudioSpecificConfig');
      return [`m=audio 0 RTP/AVP ${payloadType}`, `a=rtpmap:${payloadType} mpeg4-generic/${track.clockRate}/${track.channels}`,
        `a=fmtp:${payloadType} ${aacHbrFmtpParameters(track.config)}`, `a=control:${control}`];
    }
    case 'pcma':
    case 'pcmu': {
      const type = G711_PAYLOAD_TYPE[track.codec];
      const channels = track.channels === 1 ? '' : `/${track.channels}`;
      return [`m=audio 0 RTP/AVP ${type}`, `a=rtpmap:${type} ${track.codec.toUpperCase()}/${track.clockRate}${channels}`, `a=control:${control}`];
    }
    case 'opus':
      return [`m=audio 0 RTP/AVP ${payloadType}`, `a=rtpmap:${payloadType} opus/48000/2`,
        `a=fmtp:${payloadType} sprop-stereo=${track.channels === 2 ? 1 : 0}`, `a=control:${control}`];
  }
}
