import type { AudioDepacketizer } from '../../media/rtp/audio-depacketizer.ts';
import { RtpAudioReceiver } from '../../media/rtp/audio-receiver.ts';
import type { TrackSync } from '../../media/rtp/track-sync.ts';
import type { SdpMedia } from '../../media/rtsp/sdp.ts';
import { SDP_AUDIO_ENCODINGS } from '../../media/rtsp/sdp-audio.ts';
import type { AudioUnit } from '../types.ts';
import { AacTimingCheck } from './aac-timing.ts';
import type { SessionClock } from './session-clock.ts';

/** The first audio section in a codec the client reads; undefined (the camera is shown silent) if there is none. */
export function pickAudioMedia(media: readonly SdpMedia[]): SdpMedia | undefined {
  const names: readonly string[] = SDP_AUDIO_ENCODINGS;
  return media.find((section) => section.type === 'audio' && section.encoding !== undefined && names.includes(section.encoding));
}

/** What a camera's audio track needs beside its SDP section and depacketizer. */
export interface RtspAudioOptions {
  /** Puts its times on the video track's timeline. */
  readonly sync: TrackSync;
  /** The session's clock, the picture's too: sound before the first picture goes by its arrival on it. */
  readonly clock: SessionClock;
  readonly onUnit: (unit: AudioUnit) => void;
  /** The sound stopped (frames that contradict the AAC config): the picture goes on. */
  readonly onStopped: (error: Error) => void;
}

/**
 * The receiver of a camera's audio track: packets of its SDP payload type, AAC frames checked against their config's
 * rate where the SDP's RTP clock disagrees with it, times on the video track's timeline (the session's clock).
 */
export function rtspAudioReceiver(media: SdpMedia, depacketizer: AudioDepacketizer, options: RtspAudioOptions): RtpAudioReceiver {
  const payloadType = media.payloadTypes[0] ?? 0;
  const timing = AacTimingCheck.for(depacketizer.track, media.channels);
  return new RtpAudioReceiver({
    depacketizer,
    sync: options.sync,
    accepts: (packet) => packet.payloadType === payloadType,
    onUnit: options.onUnit,
    timelineAt: (now) => options.clock.at(now),
    check: timing && ((unit) => timing.push(unit)),
    onStopped: options.onStopped,
  });
}
