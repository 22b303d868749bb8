import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import { registerSecurityMetrics } from '../auth/metrics.ts';
import type { Feed } from '../core/feed.ts';
import type { ObjectStoreStats } from '../../lib/object-store.ts';
import type { StreamOutput } from '../outputs/output.ts';
import type { RateSampler } from './rates.ts';
import type { Relay } from '../running/relay.ts';
import { encoderProcessStats, encoderStats, streamStats, type EncoderProcessStats, type EncoderStats } from './stats.ts';
import { RELAY_VERSION } from './status.ts';
import { registerRecordingMetrics } from '../recording/status.ts';
import type { RecordingsRef } from '../recording/recordings.ts';

type Labels = Record<string, string>;
type Reading = readonly [Labels, number];

const cameraLabels = (feed: Feed): Labels => ({ camera: feed.camera.name });
const streamLabels = (output: StreamOutput): Labels => ({
  stream: output.config.name,
  camera: output.feed.camera.name,
  format: output.config.format,
});

/**
 * A Prometheus registry of the relay's own (never the global one, so that two relays in one process do not clash):
 * process metrics plus counters read from the relay's cameras and streams at scrape time, never per frame.
 */
export function createMetricsRegistry(relay: Relay, rates: RateSampler, recordings: RecordingsRef): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const feeds = (): Feed[] => [...relay.feeds.values()];
  const outputs = (): StreamOutput[] => [...relay.outputs.values()];

  const counter = (name: string, help: string, labelNames: string[], read: () => Reading[]): void => {
    new Counter({
      name, help, labelNames, registers: [registry],
      collect() {
        this.reset();
        for (const [labels, value] of read()) this.inc(labels, value);
      },
    });
  };
  const gauge = (name: string, help: string, labelNames: string[], read: () => Reading[]): void => {
    new Gauge({
      name, help, labelNames, registers: [registry],
      collect() {
        this.reset();
        for (const [labels, value] of read()) this.set(labels, value);
      },
    });
  };
  const camera = ['camera'];
  const stream = ['stream', 'camera', 'format'];

  gauge('relay_info', 'Relay and ffmpeg versions (always 1).', ['version', 'ffmpeg_version'], () => [
    [{ version: RELAY_VERSION, ffmpeg_version: relay.deps.ffmpeg.version }, 1],
  ]);
  gauge('relay_camera_up', '1 while the camera connection is live.', camera, () =>
    feeds().map((feed) => [cameraLabels(feed), feed.state === 'live' ? 1 : 0]));
  counter('relay_camera_bytes_in_total', 'Bytes of frames received from the camera.', camera, () =>
    feeds().map((feed) => [cameraLabels(feed), feed.counters.bytesIn]));
  counter('relay_camera_frames_in_total', 'Frames received from the camera and kept.', camera, () =>
    feeds().map((feed) => [cameraLabels(feed), feed.counters.framesIn]));
  counter('relay_camera_frames_dropped_total', 'Frames from the camera dropped by InputFrameRate.', camera, () =>
    feeds().map((feed) => [cameraLabels(feed), feed.counters.framesDropped]));
  counter('relay_camera_frames_invalid_total', 'Frames from the camera that could not be images, dropped on arrival.', camera, () =>
    feeds().map((feed) => [cameraLabels(feed), feed.counters.framesInvalid]));
  counter('relay_camera_audio_frames_in_total', 'Audio frames received from the camera and kept.', camera, () =>
    feeds().map((feed) => [cameraLabels(feed), feed.counters.audioFramesIn]));
  counter('relay_camera_audio_frames_dropped_total', 'Audio frames from the camera dropped because their time went back.', camera, () =>
    feeds().map((feed) => [cameraLabels(feed), feed.counters.audioFramesDropped]));
  counter('relay_camera_reconnects_total', 'Camera connections that failed and were retried.', camera, () =>
    feeds().map((feed) => [cameraLabels(feed), feed.status.restarts]));
  gauge('relay_camera_input_fps', 'Frames per second received from the camera, measured.', camera, () =>
    feeds().map((feed) => [cameraLabels(feed), rates.camera(feed).frames.rate ?? 0]));

  gauge('relay_viewers', 'Viewers now (HLS: sessions that reloaded their playlist recently).', stream, () =>
    outputs().map((output) => [streamLabels(output), output.viewerCount]));
  counter('relay_stream_bytes_out_total', 'Bytes written to viewers.', stream, () =>
    outputs().map((output) => [streamLabels(output), output.bytesOut]));
  const byProtocol = (figure: 'viewers' | 'bytesOut') => (): Reading[] =>
    outputs().flatMap((output) => Object.entries(relay.protocolStats(output.config.name)).map(([protocol, stats]): Reading =>
      [{ ...streamLabels(output), protocol }, stats[figure]]));
  gauge('relay_protocol_viewers', 'Consumers now on edges beside HTTP (RTSP readers), by protocol.', [...stream, 'protocol'], byProtocol('viewers'));
  counter('relay_protocol_bytes_out_total', 'Bytes written to consumers on edges beside HTTP, by protocol.', [...stream, 'protocol'], byProtocol('bytesOut'));
  counter('relay_stream_frames_out_total', 'Frames sent out (HLS: frames handed to its encoder).', stream, () =>
    outputs().map((output) => [streamLabels(output), streamStats(output).framesOut]));
  counter('relay_stream_frames_dropped_total', 'Frames dropped for slow viewers or a backed-up encoder.', stream, () =>
    outputs().map((output) => [streamLabels(output), streamStats(output).drops]));
  counter('relay_stream_slow_disconnects_total', 'Viewers disconnected because their sockets stopped taking bytes.', stream, () =>
    outputs().map((output) => [streamLabels(output), streamStats(output).slowDisconnects]));
  counter('relay_stream_refused_viewers_total', 'Viewers of the stream refused by MaxClients or MaxBandwidth.', stream, () =>
    outputs().map((output) => [streamLabels(output), relay.admission.counters.refusedByStream.get(output.config.name) ?? 0]));
  counter('relay_refused_viewers_total', 'Viewers refused by MaxClients or MaxBandwidth, all streams.', [], () => [
    [{}, relay.admission.counters.refused],
  ]);
  counter('relay_stream_origin_requests_total', 'HLS requests that reached the relay, by kind (playlist, segment, part, init).', [...stream, 'kind'], () =>
    outputs().flatMap((output): Reading[] =>
      Object.entries(streamStats(output).originRequests ?? {}).map(([kind, count]): Reading => [{ ...streamLabels(output), kind }, count])));
  const encoder = ['encoder', 'camera'];
  const encoderLabels = (stats: EncoderStats): Labels => ({ encoder: stats.id, camera: stats.camera });
  counter('relay_encoder_restarts_total', 'Encoder processes that died and were restarted.', encoder, () =>
    encoderStats(relay).map((stats) => [encoderLabels(stats), stats.restarts]));
  gauge('relay_encoder_up', '1 while the encoder is live.', encoder, () =>
    encoderStats(relay).map((stats) => [encoderLabels(stats), stats.state === 'live' ? 1 : 0]));
  gauge('relay_encoder_streams', 'Streams sharing the encoder.', encoder, () =>
    encoderStats(relay).map((stats) => [encoderLabels(stats), stats.streams.length]));
  counter('relay_encoder_frames_out_total', 'Access units the encoder produced.', encoder, () =>
    encoderStats(relay).map((stats) => [encoderLabels(stats), stats.framesOut]));
  const processes = (): Array<readonly [StreamOutput, EncoderProcessStats]> =>
    outputs().flatMap((output) => {
      const process = encoderProcessStats(output.video);
      return process ? [[output, process] as const] : [];
    });
  counter('relay_ffmpeg_restarts_total', 'Restarts of the encoder process the stream packages (shared by streams of equal settings).', stream, () =>
    processes().map(([output, process]): Reading => [streamLabels(output), process.restarts]));
  gauge('relay_ffmpeg_up', '1 while the stream\'s encoder is live.', stream, () =>
    processes().map(([output, process]): Reading => [streamLabels(output), process.state === 'live' ? 1 : 0]));
  gauge('relay_ffmpeg_cpu_percent', 'CPU use of the stream\'s encoder over the last sampling interval (100 = one core).', stream, () =>
    outputs().flatMap((output): Reading[] => {
      const percent = output.video?.pid !== undefined ? rates.stream(output).cpu.percent : null;
      return percent === null ? [] : [[streamLabels(output), percent]];
    }));
  const storage = ['storage', 'bucket'];
  const stores = (read: (store: ObjectStoreStats) => number): Reading[] =>
    relay.objectStores.stats().map((store) => [{ storage: store.name, bucket: store.bucket }, read(store)]);
  gauge('relay_storage_up', '1 while the bucket answers (0 from a failed request until one succeeds).', storage, () => stores((s) => (s.state === 'ok' ? 1 : 0)));
  counter('relay_storage_requests_total', 'Requests made to the bucket.', storage, () => stores((s) => s.requests));
  counter('relay_storage_failures_total', 'Requests to the bucket that failed (after the client\'s own retries).', storage, () => stores((s) => s.failures));
  counter('relay_storage_read_bytes_total', 'Bytes read from the bucket.', storage, () => stores((s) => s.bytesRead));
  counter('relay_storage_written_bytes_total', 'Bytes written to the bucket.', storage, () => stores((s) => s.bytesWritten));
  registerRecordingMetrics(registry, recordings);
  registerSecurityMetrics(registry, relay);
  return registry;
}
