import type { CameraConfig, StreamConfig } from '../../conf/types.ts';
import { FlvTagReader } from '../flv.ts';
import type { Logger } from '../log.ts';
import { EncodedHub } from '../media/encoded-hub.ts';
import { FlvFrameReader } from '../media/flv-frames.ts';
import type { EncodedVideoSource } from '../media/types.ts';
import type { Relay } from '../relay.ts';
import { Transcode } from '../transcode.ts';

/** The camera's encoded video at its recording settings, and how to let go of it. */
export interface RecordingSource {
  readonly video: EncodedVideoSource;
  close(): Promise<void>;
}

/**
 * The one place the recorder gets a camera's encoded H.264: an encoder at the Record* settings, fed by the camera's
 * Feed (so no second camera connection), turned from FLV into encoded frames.
 */
export function recordingSource(relay: Relay, camera: CameraConfig, log: Logger): RecordingSource {
  const feed = relay.feeds.get(camera.name);
  if (!feed) throw new Error(`camera ${camera.name} has no feed`);
  const hub = new EncodedHub(`record ${camera.name}`, () => feed.acquire(), (error) => log.error(`recorder: ${error.message}`));
  let tags = new FlvTagReader();
  const frames = new FlvFrameReader();
  const transcode = new Transcode({
    stream: recordingStreamConfig(camera),
    feed,
    output: { kind: 'flv' },
    ffmpegPath: relay.deps.ffmpeg.path,
    ffmpegFeatures: relay.deps.ffmpeg.features,
    startQueue: relay.startQueue,
    log: log.child('encoder'),
    onProcessStart: () => {
      tags = new FlvTagReader();
      hub.reset();
    },
    onStdout: (chunk) => {
      try {
        for (const tag of tags.push(chunk)) {
          const frame = frames.read(tag);
          if (frame) hub.publish(frame);
        }
      } catch (error) {
        log.error(`recording encoder output unreadable: ${(error as Error).message}`);
      }
    },
  });
  transcode.start();
  return { video: hub, close: () => transcode.stop() };
}

/** The recording settings in the shape of a Stream block, as the encoder takes them. */
function recordingStreamConfig(camera: CameraConfig): StreamConfig {
  const { record } = camera;
  return {
    name: `record-${camera.name}`,
    line: camera.line,
    format: 'flv',
    feed: camera.name,
    videoFrameRate: record.codec === 'copy' ? 0 : record.frameRate,
    videoSize: record.codec === 'copy' ? undefined : record.size,
    videoBitRate: record.bitRate,
    videoQMin: undefined,
    videoQMax: undefined,
    videoGopSize: 0,
    videoCodec: record.codec,
    maxClients: 0,
    hlsSegmentSeconds: 2,
    hlsListSize: 6,
    viewerBudgetBytes: 1024 * 1024,
    viewerHardLimitBytes: 8 * 1024 * 1024,
    viewerWriteTimeoutMs: 20_000,
  };
}
