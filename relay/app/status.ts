import type { PushStreamInfo } from '../../adapters/push/gateway.ts';
import type { EdgeStreamStats, WebRtcViewerFigures } from '../core/edge.ts';
import type { Feed } from '../core/feed.ts';
import type { FfmpegInfo } from '../encoders/ffmpeg-locate.ts';
import type { StreamOutput } from '../outputs/output.ts';
import { VIEWER_SAMPLE_CAP, type RateSampler } from './rates.ts';
import type { Relay } from '../running/relay.ts';
import { encoderProcessStats, encoderStats, streamStats, type EncoderStats } from './stats.ts';
import { recordingStatus, type RecordingStatus } from '../recording/status.ts';
import type { ObjectStoreStats } from '../../lib/object-store.ts';
import type { RecordingsRef } from '../recording/recordings.ts';
import type { AlertsStatus } from '../events/alerts.ts';
import { aliasedPlayerUrl } from './player-alias.ts';
import { pictureNotice } from './notices.ts';

/** The version reported on /stat.html and by `relay --version`. */
export const RELAY_VERSION = '0.1.0';

/** Everything /stat.html, /stat.json and /metrics show, read from counters and sampled rates, never from sockets. */
export interface StatusSnapshot {
  server: ServerStatus;
  cameras: CameraStatus[];
  streams: StreamStatus[];
  /** One per distinct video setting of a camera, with the streams that share it. */
  encoders: EncoderStats[];
  /** Recordings on disk and each recorded camera's recorder; null when nothing records. */
  recording: RecordingStatus | null;
  /** Each configured bucket (<Storage>): requests, bytes read and written, failures, its last error; no key or secret. */
  storage?: ObjectStoreStats[];
  /** OnEvent webhooks and OnEventExec: each target's deliveries and the latest ones; null when the relay has none. */
  events?: AlertsStatus | null;
}

export interface ServerStatus {
  version: string;
  startedAt: string;
  uptimeSeconds: number;
  ffmpeg: FfmpegInfo;
  viewers: number;
  maxClients: number;
  /** Estimated from each viewer's stream bit rate, as MaxBandwidth counts it. */
  bandwidthKbps: number;
  /** Measured: bytes actually written to viewers over the last sampling interval. */
  measuredOutKbps: number | null;
  maxBandwidthKbps: number;
  refused: number;
  /** What the operator should act on: exposure without credentials, changes that wait for a restart. */
  notices: readonly string[];
}

export interface CameraStatus {
  name: string;
  kind: string;
  /** scheme://host:port only: never credentials, path or query. */
  host: string;
  state: string;
  /** The state for people: "retrying in 4 s", "idle (on demand)". */
  stateText: string;
  lastError: { message: string; at: string; phase: string } | null;
  liveSince: string | null;
  nextAttemptInSeconds: number | null;
  reconnects: number;
  framesIn: number;
  framesDropped: number;
  /** Frames that could not be images (too small, not whole), dropped on arrival. */
  framesInvalid: number;
  bytesIn: number;
  inputFps: number | null;
  inputKbps: number | null;
  lastFrameAgeSeconds: number | null;
  viewers: number;
  streams: string[];
  /** A push camera's current publisher and how its RTP arrives; null for other cameras and while none streams. */
  push: PushStatus | null;
  /** The camera's sound as last seen; null for a camera that has sent none. */
  audio: CameraAudioStatus | null;
  /** What is wrong with the picture the camera sends while it runs (an unreadable SPS), or null. */
  notice: string | null;
}

export interface CameraAudioStatus {
  /** 'none', with rates 0, when the camera's announced sound was left out (the summary says why). */
  codec: string;
  sampleRate: number;
  channels: number;
  framesIn: number;
  /** Frames whose time went back, dropped. */
  framesDropped: number;
  /** Jumps of the camera's audio clock, re-based after the last frame. */
  rebased: number;
  lastFrameAgeSeconds: number | null;
  /** One line for the status page, e.g. "sound: aac 48000 Hz mono: stopped 5 s ago". */
  summary: string;
}

/** Sound that has not come for this long is shown as stopped. */
const AUDIO_STOPPED_SECONDS = 3;

function channelLayout(channels: number): string {
  return channels === 1 ? 'mono' : channels === 2 ? 'stereo' : `${channels} channels`;
}

function cameraAudio(feed: Feed, now: number): CameraAudioStatus | null {
  const track = feed.audioTrack;
  const c = feed.counters;
  const announced = feed.announcedAudioTrack;
  if (!track && feed.audioLeftOut !== undefined) {
    return {
      codec: 'none', sampleRate: 0, channels: 0,
      framesIn: c.audioFramesIn, framesDropped: c.audioFramesDropped, rebased: c.audioRebased, lastFrameAgeSeconds: null,
      summary: `sound left out: ${feed.audioLeftOut}`,
    };
  }
  if (!track && announced) {
    // A camera that announces sound and sends none (in this run) is told apart from a silent camera.
    return {
      codec: announced.codec, sampleRate: announced.sampleRate, channels: announced.channels,
      framesIn: c.audioFramesIn, framesDropped: c.audioFramesDropped, rebased: c.audioRebased, lastFrameAgeSeconds: null,
      summary: `sound: ${announced.codec} ${announced.sampleRate} Hz ${channelLayout(announced.channels)}: announced, none received`,
    };
  }
  if (!track) return null;
  const age = c.lastAudioAt === undefined ? null : round((now - c.lastAudioAt) / 1000);
  const pictureAge = c.lastFrameAt === undefined ? null : (now - c.lastFrameAt) / 1000;
  const layout = channelLayout(track.channels);
  const problems = [
    age !== null && age > AUDIO_STOPPED_SECONDS ? `stopped ${Math.round(age)} s ago` : '',
    // Sound keeps the no-frames watchdog quiet, so a camera whose picture alone stopped stays live: say so here.
    pictureAge !== null && pictureAge > AUDIO_STOPPED_SECONDS && age !== null && age <= AUDIO_STOPPED_SECONDS
      ? `picture stopped ${Math.round(pictureAge)} s ago, sound goes on` : '',
    c.audioFramesDropped > 0 ? `${c.audioFramesDropped} frames dropped (time went back)` : '',
    c.audioRebased > 0 ? `${c.audioRebased} clock jumps re-based` : '',
  ].filter(Boolean);
  return {
    codec: track.codec, sampleRate: track.sampleRate, channels: track.channels,
    framesIn: c.audioFramesIn, framesDropped: c.audioFramesDropped, rebased: c.audioRebased, lastFrameAgeSeconds: age,
    summary: `sound: ${track.codec} ${track.sampleRate} Hz ${layout}${problems.length > 0 ? `: ${problems.join(', ')}` : ''}`,
  };
}

export interface PushStatus {
  publisher: string;
  codec: string;
  rtpPort: number;
  since: string;
  packets: number;
  lostPackets: number;
  droppedFrames: number;
  keyframeRequests: number;
  /** Datagrams refused: from another address, of another SSRC, malformed or of an unsupported payload type. */
  refusedPackets: number;
  /** The above in a line, for the status page. */
  summary: string;
}

export interface ViewerStatus {
  id: number;
  /** `http`, or the edge that serves it, e.g. `rtsp/tcp`. */
  protocol: string;
  address: string;
  since: string;
  bytesSent: number;
  kbps: number | null;
  drops: number;
  /** WebRTC viewers only: the selected ICE pair, RTT, NACKs, PLIs and packets. */
  webrtc?: WebRtcViewerFigures;
}

export interface FfmpegStatus {
  state: string;
  pid: number | null;
  cpuPercent: number | null;
  restarts: number;
  lastError: { message: string; at: string } | null;
  /** The last lines of its stderr, kept only once it has failed. */
  stderrTail: string;
}

export interface StreamStatus {
  name: string;
  url: string;
  /** The player page, for HLS (hls.js) and FLV (mpegts.js) streams. */
  playerUrl: string | null;
  /** The WebSocket player page (WebCodecs, else MSE), for streams with `WebSocket yes`. */
  liveUrl: string | null;
  /** The WebRTC player page, for streams with `WebRTC yes` (their HLS and FLV pages try WebRTC first too). */
  webrtcUrl: string | null;
  /** An LL-HLS stream (`LowLatency yes`): its player uses hls.js's low-latency mode. */
  lowLatency: boolean;
  format: string;
  camera: string;
  configured: { size: string | null; frameRate: number; bitRateKbps: number };
  measured: { frameRate: number | null; encodedKbps: number | null; outKbps: number | null };
  viewers: number;
  maxClients: number;
  refused: number;
  bytesOut: number;
  framesOut: number;
  /** Frames not sent to slow viewers plus frames not handed to a backed-up encoder. */
  drops: number;
  /** Consumers waiting for the stream to start (counted in viewers). */
  waiting: number;
  /** The id of the shared encoder this stream packages (see `encoders`), for H.264 streams. */
  encoder: string | null;
  ffmpeg: FfmpegStatus | null;
  viewerList: ViewerStatus[];
  /** True when viewerList stops short of `viewers`. */
  viewerListTruncated: boolean;
  /** HLS: requests that reached the relay, by kind (playlist, segment, part, init); null for other formats. */
  originRequests: Record<string, number> | null;
  /** Consumers on edges beside HTTP, by protocol (e.g. `rtsp`: viewers, bytesOut, tcp, udp); not in `viewers`. */
  protocols: Record<string, EdgeStreamStats>;
}

const iso = (ms: number | undefined): string | null => (ms === undefined ? null : new Date(ms).toISOString());
const round = (value: number | null, digits = 1): number | null => (value === null ? null : Number(value.toFixed(digits)));
const kbps = (bytesPerSecond: number | null): number | null => round(bytesPerSecond === null ? null : (bytesPerSecond * 8) / 1000);

const viewerIds = new WeakMap<object, number>();
let nextViewerId = 1;
/** A number that tells viewers apart on the status page (addresses repeat). */
function viewerId(viewer: object): number {
  let id = viewerIds.get(viewer);
  if (id === undefined) viewerIds.set(viewer, (id = nextViewerId++));
  return id;
}

/** The snapshot of one relay; rates are null until the sampler has two readings. */
export function statusSnapshot(relay: Relay, rates: RateSampler, recordings: RecordingsRef): StatusSnapshot {
  const now = Date.now();
  const usage = relay.admission.usage();
  const outputs = [...relay.outputs.values()];
  const pushed = new Map(relay.push.streams().map((stream) => [stream.camera, stream]));
  const cameras = [...relay.feeds.values()].map((feed) => cameraStatus(feed, outputs, rates, now, pushed.get(feed.camera.name)));
  const streams = outputs.map((output) => streamStatus(relay, output, rates));
  const measured = streams.map((stream) => stream.measured.outKbps).filter((value): value is number => value !== null);
  return {
    server: {
      version: RELAY_VERSION,
      startedAt: new Date(relay.startedAt).toISOString(),
      uptimeSeconds: Math.round((now - relay.startedAt) / 1000),
      ffmpeg: relay.deps.ffmpeg,
      viewers: usage.viewers,
      maxClients: relay.config.maxClients,
      bandwidthKbps: usage.kbps,
      measuredOutKbps: measured.length > 0 ? round(measured.reduce((a, b) => a + b, 0)) : null,
      maxBandwidthKbps: relay.config.maxBandwidth,
      refused: relay.admission.counters.refused,
      notices: relay.notices,
    },
    cameras,
    streams,
    encoders: encoderStats(relay),
    recording: recordingStatus(recordings),
    storage: relay.objectStores.stats(),
    events: relay.alerts?.status() ?? null,
  };
}

function pushStatus(stream: PushStreamInfo): PushStatus {
  const c = stream.counters;
  const refusedPackets = c.foreign + c.wrongSsrc + c.malformed + c.unsupported;
  return {
    publisher: stream.publisher, codec: stream.codec, rtpPort: stream.rtpPort, since: new Date(stream.since).toISOString(),
    packets: c.packets, lostPackets: c.lost, droppedFrames: c.droppedFrames, keyframeRequests: c.keyframeRequests, refusedPackets,
    summary: `publisher ${stream.publisher}, ${stream.codec} on UDP ${stream.rtpPort}: ${c.packets} packets, ${c.lost} lost, ` +
      `${c.droppedFrames} frames dropped, ${c.keyframeRequests} keyframe requests, ${refusedPackets} refused`,
  };
}

function cameraStatus(feed: Feed, outputs: StreamOutput[], rates: RateSampler, now: number, pushed: PushStreamInfo | undefined): CameraStatus {
  const status = feed.status;
  const meters = rates.camera(feed);
  const own = outputs.filter((output) => output.feed === feed);
  const nextAttemptInSeconds = status.nextAttemptAt ? Math.max(0, Math.ceil((status.nextAttemptAt - now) / 1000)) : null;
  return {
    name: feed.camera.name,
    kind: feed.kind,
    host: hostOnly(feed.camera.source),
    state: status.state,
    stateText: stateText(status.state, nextAttemptInSeconds),
    lastError: status.lastError
      ? { message: status.lastError.message, at: new Date(status.lastError.at).toISOString(), phase: status.lastError.phase }
      : null,
    liveSince: iso(status.liveSince),
    nextAttemptInSeconds,
    reconnects: status.restarts,
    framesIn: feed.counters.framesIn,
    framesDropped: feed.counters.framesDropped,
    framesInvalid: feed.counters.framesInvalid,
    bytesIn: feed.counters.bytesIn,
    inputFps: round(meters.frames.rate),
    inputKbps: kbps(meters.bytes.rate),
    lastFrameAgeSeconds: feed.counters.lastFrameAt ? round((now - feed.counters.lastFrameAt) / 1000) : null,
    viewers: own.reduce((sum, output) => sum + output.viewerCount, 0),
    streams: own.map((output) => output.config.name),
    push: pushed ? pushStatus(pushed) : null,
    audio: cameraAudio(feed, now),
    notice: pictureNotice(feed.latestFrame?.track),
  };
}

/** How a supervised state reads on the status page. */
export function stateText(state: string, nextAttemptInSeconds: number | null): string {
  if (state === 'retrying') return nextAttemptInSeconds === null ? 'retrying' : `retrying in ${nextAttemptInSeconds} s`;
  if (state === 'idle') return 'idle (on demand)';
  if (state === 'waiting') return 'waiting for publisher';
  return state;
}

function streamStatus(relay: Relay, output: StreamOutput, rates: RateSampler): StreamStatus {
  const { config } = output;
  const stats = streamStats(output);
  const meters = rates.stream(output);
  const viewers = [...stats.consumers].slice(0, VIEWER_SAMPLE_CAP);
  const viewerList: ViewerStatus[] = [
    ...viewers.map((viewer) => ({
      id: viewerId(viewer), protocol: 'http', address: viewer.remoteAddress, since: new Date(viewer.since).toISOString(),
      bytesSent: viewer.bytesSent, kbps: kbps(rates.viewer(viewer).rate), drops: viewer.drops,
    })),
    ...relay.protocolConsumers(config.name, VIEWER_SAMPLE_CAP - viewers.length).map((consumer) => ({
      id: viewerId(consumer.handle), protocol: consumer.protocol, address: consumer.address, since: new Date(consumer.since).toISOString(),
      bytesSent: consumer.bytesSent, kbps: kbps(rates.viewer(consumer.handle).rate), drops: consumer.drops,
      ...(consumer.webrtc ? { webrtc: consumer.webrtc } : {}),
    })),
  ];
  const encoder = stats.encoder;
  const process = encoderProcessStats(encoder);
  return {
    name: config.name,
    url: `/${config.name}`,
    playerUrl: output.player ? `/player/${config.name}` : null,
    liveUrl: config.webSocket ? aliasedPlayerUrl(relay.config.streams, config.name, 'live') : null,
    webrtcUrl: config.webrtc && output.video ? aliasedPlayerUrl(relay.config.streams, config.name, 'webrtc') : null,
    lowLatency: output.player === 'hls' && config.lowLatency,
    format: config.format,
    camera: output.feed.camera.name,
    configured: {
      size: config.videoSize ? `${config.videoSize.width}x${config.videoSize.height}` : null,
      frameRate: config.videoFrameRate,
      bitRateKbps: config.videoBitRate,
    },
    measured: {
      frameRate: round(meters.frames.rate),
      encodedKbps: encoder ? kbps(meters.encodedBytes.rate) : null,
      outKbps: kbps(meters.bytesOut.rate),
    },
    viewers: stats.viewers,
    maxClients: config.maxClients,
    refused: relay.admission.counters.refusedByStream.get(config.name) ?? 0,
    bytesOut: stats.bytesOut,
    framesOut: stats.framesOut,
    drops: stats.drops,
    waiting: stats.waiting,
    encoder: encoder?.id ?? null,
    ffmpeg: process && {
      state: process.state,
      pid: process.pid,
      cpuPercent: round(meters.cpu.percent),
      restarts: process.restarts,
      lastError: process.lastError,
      stderrTail: process.stderrTail,
    },
    viewerList,
    viewerListTruncated: viewerList.length < stats.viewers + relay.protocolViewers(config.name),
    originRequests: stats.originRequests ? { ...stats.originRequests } : null,
    protocols: relay.protocolStats(config.name),
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
