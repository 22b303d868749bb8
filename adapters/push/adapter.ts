import type { CameraConfig } from '../../conf/types.ts';
import { AdapterError } from '../errors.ts';
import type { AdapterRegistration } from '../registry.ts';
import type { AdapterSink, CameraAdapter } from '../types.ts';
import type { PushGateway } from './gateway.ts';

/**
 * A camera that publishes to the relay (`Source push://`): run() waits for an authorised publisher, hands on its
 * frames, goes back to waiting when the publisher stops, and fails when the publisher falls silent past Timeout.
 */
export class PushAdapter implements CameraAdapter {
  readonly kind = 'push';

  constructor(
    private readonly camera: CameraConfig,
    private readonly gateway: PushGateway,
  ) {}

  run(sink: AdapterSink): Promise<void> {
    return new Promise((resolve, reject) => {
      let connected = false;
      sink.onWaiting();
      const detach = this.gateway.attach(this.camera.name, {
        get taking() {
          return connected;
        },
        onFrame: (frame) => {
          if (!connected && !frame.keyframe) return; // joined mid-stream (after a restart): start at a keyframe
          if (!connected) {
            connected = true;
            sink.onConnected();
          }
          sink.onFrame(frame);
        },
        // Sound goes with the picture: none before the camera has taken a keyframe.
        onAudio: (unit) => {
          if (connected) sink.onAudio?.(unit);
        },
        onAudioAnnounced: (track) => sink.onAudioAnnounced?.(track),
        onSessionEnd: (reason, error) => {
          if (reason === 'stopped' || reason === 'operator' || reason === 'no-packets') {
            if (connected) sink.log(reason === 'operator' ? 'publisher stopped by an operator; waiting for a publisher' : 'publisher stopped; waiting for a publisher');
            connected = false;
            sink.onWaiting();
            return;
          }
          finish(error ?? new AdapterError('CLOSED', `publisher stream ended (${reason})`));
        },
      });
      const onAbort = (): void => finish();
      sink.signal.addEventListener('abort', onAbort, { once: true });
      function finish(error?: AdapterError): void {
        sink.signal.removeEventListener('abort', onAbort);
        detach();
        if (error) reject(error);
        else resolve();
      }
      if (sink.signal.aborted) finish();
    });
  }
}

/** The push:// scheme; the relay gives every adapter its PushGateway through the adapter environment. */
export const pushAdapter: AdapterRegistration = {
  schemes: ['push'],
  create: (camera, env) => {
    if (!env.push) throw new Error('push:// cameras need the relay\'s push gateway');
    return new PushAdapter(camera, env.push);
  },
};
