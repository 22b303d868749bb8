import { Hub, type HubOptions } from './hub.ts';
import { unitBytes, type EncodedVideoFrame, type EncodedVideoSource, type H264Track } from '../../media/types.ts';

/** The demand hooks and error report of an encoder's hub. */
export type EncodedHubOptions = Pick<HubOptions<EncodedVideoFrame>, 'onAcquire' | 'onLast' | 'onSubscriberError'>;

/** An encoder's access units on a hub, with the current track: what every packager of its streams reads. */
export class EncodedHub extends Hub<EncodedVideoFrame> implements EncodedVideoSource {
  track: H264Track | undefined;

  constructor(
    readonly id: string,
    options: EncodedHubOptions = {},
  ) {
    super({ ...options, keyframe: (frame) => frame.keyframe, size: unitBytes });
  }

  override publish(frame: EncodedVideoFrame): void {
    this.track = frame.track;
    super.publish(frame);
  }
}
