import type { SharedEncoder } from '../encoders/shared-encoder.ts';
import { HlsOutput } from '../outputs/hls.ts';
import type { StreamOutput } from '../outputs/output.ts';
import type { Relay } from '../core/relay.ts';
import type { Viewer } from '../core/viewer.ts';

/**
 * The one place status pages, /stat.json, /metrics and the rate sampler read a stream's and an encoder's figures
 * from, so none of them reaches into fan-outs, encoders or packagers.
 */
export interface StreamStats {
  readonly viewers: number;
  readonly bytesOut: number;
  /** Frames sent out (for HLS, which has no fan-out: frames its encoder produced). */
  readonly framesOut: number;
  /** Frames not sent to slow viewers plus camera frames not handed to a backed-up encoder. */
  readonly drops: number;
  readonly slowDisconnects: number;
  /** Consumers waiting for the stream to start (counted in viewers). */
  readonly waiting: number;
  readonly encoder: SharedEncoder | undefined;
  /** Consumers of a live stream, for the viewer list (none for HLS). */
  readonly consumers: Iterable<Viewer>;
  /** HLS: requests that reached the relay by kind (playlist, segment, part, init); undefined for other formats. */
  readonly originRequests: Readonly<Record<string, number>> | undefined;
}

export function streamStats(output: StreamOutput): StreamStats {
  const { fanout, video } = output;
  return {
    viewers: output.viewerCount,
    bytesOut: output.bytesOut,
    framesOut: fanout ? fanout.counters.framesOut : (video?.counters.framesOut ?? 0),
    drops: (fanout?.counters.drops ?? 0) + (video?.counters.framesDropped ?? 0),
    slowDisconnects: fanout?.counters.slowDisconnects ?? 0,
    waiting: fanout?.waitingViewers.length ?? 0,
    encoder: video,
    consumers: fanout?.viewers ?? [],
    originRequests: output instanceof HlsOutput ? output.originRequests : undefined,
  };
}

/** One encoder as the status page shows it: which streams share it, and how its process is doing. */
export interface EncoderStats {
  readonly id: string;
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
  return [...relay.encoders.values()].map(({ encoder, users }) => {
    const supervisor = encoder.supervisor;
    const lastError = supervisor?.lastError;
    return {
      id: encoder.id,
      camera: encoder.id.split('#')[0]!,
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
}
