import { parseAudioSpecificConfig } from '../../media/aac/config.ts';
import { ProtocolError } from '../../media/errors.ts';
import type { RtpAudioUnit } from '../../media/rtp/audio-depacketizer.ts';
import type { AudioTrack } from '../../media/types.ts';

/** RTP time to watch before judging the frames' rate, and how far it may be from the config's rate. */
const JUDGE_AFTER_MS = 1_000;
const TOLERANCE = 0.25;
/** Frames held while judging: more than a second's worth at any AAC rate, so a camera cannot grow it. */
const MAX_HELD = 128;

function layout(channels: number): string {
  return channels === 1 ? 'mono' : channels === 2 ? 'stereo' : `${channels} channels`;
}

/**
 * Where an SDP's RTP clock rate differs from its AAC config's sampling rate, one of them is wrong. The frames' timing
 * tells which: frames of `frameLength` samples at the config's rate follow each other at that rate whatever the RTP
 * clock. The first second of frames is held while judging; frames that keep the config's rate go on, others are a
 * ProtocolError naming both (a decoder fed the wrong config plays noise at the wrong speed: the sound is left out).
 */
export class AacTimingCheck {
  private readonly held: RtpAudioUnit[] = [];
  private readonly frameLength: number;
  private judged = false;

  /** A check for the track, or undefined where its RTP clock and its config agree (nothing to judge). */
  static for(track: AudioTrack, sdpChannels: number | undefined): AacTimingCheck | undefined {
    if (track.codec !== 'aac' || !track.config) return undefined;
    return track.clockRate !== track.sampleRate ? new AacTimingCheck(track, sdpChannels) : undefined;
  }

  private constructor(private readonly track: AudioTrack, private readonly sdpChannels: number | undefined) {
    this.frameLength = parseAudioSpecificConfig(track.config!).frameLength;
  }

  /** The frames to send on now (none while judging); throws ProtocolError once the timing contradicts the config. */
  push(unit: RtpAudioUnit): RtpAudioUnit[] {
    if (this.judged) return [unit];
    this.held.push(unit);
    const first = this.held[0]!;
    const spanMs = unit.pts - first.pts;
    if (spanMs < JUDGE_AFTER_MS && this.held.length < MAX_HELD) return [];
    const frameRate = spanMs > 0 ? ((this.held.length - 1) * this.frameLength * 1000) / spanMs : Infinity;
    if (Math.abs(frameRate - this.track.sampleRate) > this.track.sampleRate * TOLERANCE) {
      const rtpmap = `${this.track.clockRate} Hz${this.sdpChannels === undefined ? '' : ` ${layout(this.sdpChannels)}`}`;
      throw new ProtocolError(`the AAC config says ${this.track.sampleRate} Hz ${layout(this.track.channels)}, the RTP clock says ${rtpmap} `
        + `and the frames come at ${Math.round(frameRate)} Hz: wrong AudioSpecificConfig`);
    }
    this.judged = true;
    return this.held.splice(0);
  }
}
