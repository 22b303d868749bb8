import type { Relay } from './relay.ts';
import type { FfmpegInfo } from './ffmpeg-locate.ts';
import { HlsOutput } from './outputs/hls.ts';

/** The version reported on /stat.html and by `relay --version`. */
export const RELAY_VERSION = '0.1.0';

/** Everything /stat.html, /stat.json and /metrics show, read from counters (no socket walking beyond capped lists). */
export interface StatusSnapshot {
  server: {
    version: string;
    uptimeSeconds: number;
    ffmpeg: FfmpegInfo;
    viewers: number;
    maxClients: number;
    bandwidthKbps: number;
    maxBandwidthKbps: number;
    refused: number;
  };
  cameras: CameraStatus[];
  streams: StreamStatus[];
}

export interface CameraStatus {
  name: string;
  kind: string;
  source: string;
  state: string;
  lastError: { message: string; at: string; phase: string } | null;
  liveSince: string | null;
  nextAttemptInSeconds: number | null;
  reconnects: number;
  framesIn: number;
  framesDropped: number;
  bytesIn: number;
  lastFrameAgeSeconds: number | null;
  viewers: number;
}

export interface ViewerStatus {
  address: string;
  since: string;
  bytesSent: number;
  drops: number;
}

export interface StreamStatus {
  name: string;
  url: string;
  format: string;
  feed: string;
  size: string | null;
  frameRate: number;
  bitRateKbps: number;
  viewers: number;
  refused: number;
  bytesOut: number;
  framesOut: number;
  drops: number;
  ffmpeg: { state: string; pid: number | null; restarts: number; lastError: string | null; stderrTail: string } | null;
  viewerList: ViewerStatus[];
}

/** Viewers listed per stream at most; the count is always exact. */
const VIEWER_LIST_CAP = 50;

const iso = (ms: number | undefined): string | null => (ms === undefined ? null : new Date(ms).toISOString());

export function statusSnapshot(relay: Relay): StatusSnapshot {
  const now = Date.now();
  const usage = relay.admission.usage();
  const cameras = [...relay.feeds.values()].map((feed): CameraStatus => {
    const status = feed.status;
    return {
      name: feed.camera.name,
      kind: feed.kind,
      source: hostOnly(feed.camera.source),
      state: status.state,
      lastError: status.lastError ? { message: status.lastError.message, at: new Date(status.lastError.at).toISOString(), phase: status.lastError.phase } : null,
      liveSince: iso(status.liveSince),
      nextAttemptInSeconds: status.nextAttemptAt ? Math.max(0, Math.round((status.nextAttemptAt - now) / 1000)) : null,
      reconnects: status.restarts,
      framesIn: feed.counters.framesIn,
      framesDropped: feed.counters.framesDropped,
      bytesIn: feed.counters.bytesIn,
      lastFrameAgeSeconds: feed.counters.lastFrameAt ? (now - feed.counters.lastFrameAt) / 1000 : null,
      viewers: status.viewers,
    };
  });
  const streams = [...relay.outputs.values()].map((output): StreamStatus => {
    const { config, transcode, fanout } = output;
    const size = config.videoSize ? `${config.videoSize.width}x${config.videoSize.height}` : null;
    const hlsBytes = output instanceof HlsOutput ? output.bytesOut : 0;
    return {
      name: config.name,
      url: `/${config.name}`,
      format: config.format,
      feed: output.feed.camera.name,
      size,
      frameRate: config.videoFrameRate,
      bitRateKbps: config.videoBitRate,
      viewers: output.viewerCount,
      refused: relay.admission.counters.refusedByStream.get(config.name) ?? 0,
      bytesOut: (fanout?.counters.bytesOut ?? 0) + hlsBytes,
      framesOut: fanout?.counters.framesOut ?? 0,
      drops: fanout?.counters.drops ?? 0,
      ffmpeg: transcode
        ? {
            state: transcode.supervisor.state,
            pid: transcode.pid ?? null,
            restarts: transcode.supervisor.restarts,
            lastError: transcode.supervisor.lastError?.message ?? null,
            stderrTail: transcode.supervisor.lastError ? transcode.stderr.text : '',
          }
        : null,
      viewerList: fanout
        ? [...fanout.viewers].slice(0, VIEWER_LIST_CAP).map((viewer) => ({
            address: viewer.remoteAddress,
            since: new Date(viewer.since).toISOString(),
            bytesSent: viewer.bytesSent,
            drops: viewer.drops,
          }))
        : [],
    };
  });
  return {
    server: {
      version: RELAY_VERSION,
      uptimeSeconds: Math.round((now - relay.startedAt) / 1000),
      ffmpeg: relay.deps.ffmpeg,
      viewers: usage.viewers,
      maxClients: relay.config.maxClients,
      bandwidthKbps: usage.kbps,
      maxBandwidthKbps: relay.config.maxBandwidth,
      refused: relay.admission.counters.refused,
    },
    cameras,
    streams,
  };
}

/** scheme://host[:port] only: paths and queries of camera URLs can carry tokens, so they are not shown. */
export function hostOnly(source: string): string {
  try {
    const url = new URL(source);
    return url.host ? `${url.protocol}//${url.host}` : `${url.protocol}//`;
  } catch {
    return 'invalid';
  }
}

