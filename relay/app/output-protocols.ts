import { flvProtocol, hlsProtocol, jpegProtocol, mjpegProtocol } from '../outputs/http-protocols.ts';
import { OutputRegistry, type OutputProtocol } from '../outputs/registry.ts';
import { rtspProtocol } from '../rtsp/relay-edge.ts';
import { webSocketProtocol } from '../outputs/ws/mount.ts';
import { webRtcProtocol } from '../webrtc/index.ts';

/** Every output protocol the relay serves, one line each: a new protocol is its folder plus a line here. */
export const OUTPUT_PROTOCOLS: readonly OutputProtocol[] = [
  flvProtocol,
  hlsProtocol,
  mjpegProtocol,
  jpegProtocol,
  rtspProtocol,
  webSocketProtocol,
  webRtcProtocol,
];

export function createOutputRegistry(protocols: readonly OutputProtocol[] = OUTPUT_PROTOCOLS): OutputRegistry {
  return new OutputRegistry(protocols);
}
