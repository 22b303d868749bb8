import type { CameraConfig } from '../../conf/types.ts';
import { AdapterError, type AdapterErrorCode } from '../errors.ts';
import type { AdapterEnv, AdapterRegistration } from '../registry.ts';
import { rtspAdapter } from '../rtsp/client.ts';
import type { AdapterSink, CameraAdapter } from '../types.ts';
import { deviceServiceUrl, mainProfile, OnvifDevice } from './device.ts';
import { OnvifError, type OnvifErrorCode } from './soap.ts';

const ADAPTER_CODES: Record<OnvifErrorCode, AdapterErrorCode> = {
  TIMEOUT: 'TIMEOUT',
  UNREACHABLE: 'CONNECT',
  AUTH: 'AUTH',
  FAULT: 'UPSTREAM_STATUS',
  PROTOCOL: 'PROTOCOL',
};

/** The RTSP address the device gives, with the camera's credentials (ONVIF devices use the same ones for RTSP). */
export function rtspCamera(camera: CameraConfig, streamUri: string): CameraConfig {
  const url = new URL(streamUri);
  url.username = '';
  url.password = '';
  return { ...camera, source: url.toString(), scheme: url.protocol.replace(/:$/, '') };
}

/**
 * `onvif://host[:port][/device/service/path]`: asks the device for its main profile's stream address (GetStreamUri)
 * at each start, then pulls it with the RTSP adapter, so a camera whose RTSP path changes keeps working.
 */
class OnvifSourceAdapter implements CameraAdapter {
  readonly kind = 'onvif';

  constructor(
    private readonly camera: CameraConfig,
    private readonly env: AdapterEnv,
  ) {}

  async run(sink: AdapterSink): Promise<void> {
    const timeoutMs = Math.max(1000, this.camera.connectTimeoutMs);
    const device = new OnvifDevice(deviceServiceUrl(this.camera.source), { username: this.camera.username, password: this.camera.password }, timeoutMs);
    let streamUri: string;
    try {
      const { mediaUrl, profile } = await mainProfile(device, false);
      streamUri = await device.streamUri(mediaUrl, profile.token);
    } catch (error) {
      if (error instanceof OnvifError) throw new AdapterError(ADAPTER_CODES[error.code], `ONVIF: ${error.message}`);
      throw error;
    }
    sink.log(`ONVIF stream address: ${new URL(streamUri).host}${new URL(streamUri).pathname}`);
    await rtspAdapter.create(rtspCamera(this.camera, streamUri), this.env).run(sink);
  }
}

/** Registers the adapter for onvif:// sources. */
export const onvifAdapter: AdapterRegistration = {
  schemes: ['onvif'],
  create: (camera, env) => new OnvifSourceAdapter(camera, env),
};
