import { NO_CONTROL } from '../../conf/control.ts';
import type { CameraConfig } from '../../conf/types.ts';

/** A CameraConfig with the parser's defaults, for adapter tests that need no relay.conf. */
export function makeCameraConfig(source: string, overrides: Partial<CameraConfig> = {}): CameraConfig {
  const url = new URL(source);
  const username = url.username ? decodeURIComponent(url.username) : undefined;
  const password = url.password ? decodeURIComponent(url.password) : undefined;
  url.username = '';
  url.password = '';
  return {
    name: 'cam',
    line: 1,
    source: url.toString(),
    scheme: url.protocol.replace(/:$/, ''),
    username,
    password,
    inputFrameRate: 0,
    onDemand: false,
    closeAfterMs: 10_000,
    timeoutMs: 10_000,
    retryMaxDelayMs: 60_000,
    retryResetAfterMs: 30_000,
    connectTimeoutMs: 5_000,
    readTimeoutMs: 10_000,
    snapshotIntervalMs: 0,
    maxFrameBytes: 4 * 1024 * 1024,
    tlsVerify: true,
    rtspTransport: 'tcp',
    vbcLogin: Buffer.from('10100b45293d523c4a4f16', 'hex'),
    vbcImageSize: undefined,
    publishKeys: [],
    followSsrc: false,
    loop: false,
    record: { enabled: false, frameRate: 0, size: undefined, bitRate: 1000, codec: 'libx264', segmentSeconds: 60, deleteAfterMs: 0, maxBytes: 0, archive: undefined, localKeepMs: 0 },
    control: NO_CONTROL,
    ...overrides,
  };
}
