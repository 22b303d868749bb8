import type { SharedEncoder } from '../encoders/shared-encoder.ts';
import type { OutputStats, StreamOutput } from '../outputs/output.ts';
import type { Relay } from '../running/relay.ts';

/**
 * The one place status pages, /stat.json, /metrics and the rate sampler read a stream's and an encoder's figures
 * from: each output answers stats(), so none of them reaches into fan-outs, encoders or packagers.
 */
export interface StreamStats extends OutputStats {
  readonly encoder: SharedEncoder | undefined;
}

export function streamStats(output: StreamOutput): StreamStats {
  return { ...output.stats(), encoder: output.video };
}

/** How a stream's encoder process is doing, or null for a stream without one (or an encoder without a process). */
export interface EncoderProcessStats {
  readonly state: string;
  readonly pid: number | null;
  readonly restarts: number;
  readonly lastError: { message: string; at: string } | null;
  /** The last lines of its stderr, kept only once it has failed. */
  readonly stderrTail: string;
}

export function encoderProcessStats(encoder: SharedEncoder | undefined): EncoderProcessStats | null {
  const supervisor = encoder?.supervisor;
  if (!encoder || !supervisor) return null;
  const lastError = supervisor.lastError;
  return {
    state: supervisor.state,
    pid: encoder.pid ?? null,
    restarts: supervisor.restarts,
    lastError: lastError ? { message: lastError.message, at: new Date(lastError.at).toISOString() } : null,
    stderrTail: lastError ? encoder.stderrTail : '',
  };
}

/** One encoder as the status page shows it: which streams share it, and how its process is doing. */
export interface EncoderStats {
  readonly id: string;
  /** `video`: one per distinct video setting; `audio`: a camera's sound as AAC (codec `copy`, or `aac` converted by ffmpeg). */
  readonly kind: 'video' | 'audio';
  readonly camera: string;
  readonly codec: string;
  readonly streams: string[];
  readonly state: string;
  readonly pid: number | null;
  readonly restarts: number;
  readonly lastError: { message: string; at: string } | null;
  /** The last lines of its stderr, kept only once it has failed. */
  readonly stderrTail: string;
  readonly framesIn: number;
  readonly framesOut: number;
  readonly framesDropped: number;
  readonly bytesOut: number;
}

export function encoderStats(relay: Relay): EncoderStats[] {
  const video = [...relay.encoders.values()].map(({ camera, encoder, users }): EncoderStats => {
    const supervisor = encoder.supervisor;
    const lastError = supervisor?.lastError;
    return {
      id: encoder.id,
      kind: 'video' as const,
      camera,
      codec: encoder.settings.codec,
      streams: [...users].sort(),
      state: supervisor ? supervisor.state : encoder.track ? 'live' : 'starting',
      pid: encoder.pid ?? null,
      restarts: supervisor?.restarts ?? 0,
      lastError: lastError ? { message: lastError.message, at: new Date(lastError.at).toISOString() } : null,
      stderrTail: lastError || !supervisor ? encoder.stderrTail : '',
      framesIn: encoder.counters.framesIn,
      framesOut: encoder.counters.framesOut,
      framesDropped: encoder.counters.framesDropped,
      bytesOut: encoder.counters.bytesOut,
    };
  });
  // A sound part shows once its camera has sent sound: a silent camera's costs nothing and has nothing to show.
  const audio = relay.audioParts().filter(({ audio }) => audio.mode !== undefined)
    .map(({ camera, audio, users }) => soundPartStats(audio, camera, audio.mode ?? 'copy', users));
  // The Opus converter shows while a WebRTC viewer listens: idle, it runs no process.
  const opus = relay.opusParts().filter(({ opus }) => opus.active).map(({ camera, opus, users }) => soundPartStats(opus, camera, 'opus', users));
  return [...video, ...audio, ...opus];
}

/** What /stat.json shows of a camera's sound part (the AAC one or the Opus one). */
interface SoundPart {
  readonly id: string;
  readonly state: string;
  readonly pid: number | undefined;
  readonly restarts: number;
  readonly lastError: { message: string; at: number } | undefined;
  readonly stderrTail: string;
  readonly counters: { framesIn: number; framesOut: number; framesDropped: number; bytesOut: number };
}

function soundPartStats(part: SoundPart, camera: string, codec: string, users: Iterable<string>): EncoderStats {
  const lastError = part.lastError;
  return {
    id: part.id,
    kind: 'audio' as const,
    camera,
    codec,
    streams: [...users].sort(),
    state: part.state,
    pid: part.pid ?? null,
    restarts: part.restarts,
    lastError: lastError ? { message: lastError.message, at: new Date(lastError.at).toISOString() } : null,
    stderrTail: part.stderrTail,
    framesIn: part.counters.framesIn,
    framesOut: part.counters.framesOut,
    framesDropped: part.counters.framesDropped,
    bytesOut: part.counters.bytesOut,
  };
}
