import { deviceServiceUrl, mainProfile, OnvifDevice, type MediaProfile } from '../../adapters/onvif/device.ts';
import { discover, DISCOVERY_ADDRESS, DISCOVERY_PORT, type DiscoveredDevice } from '../../adapters/onvif/discovery.ts';
import type { OnvifCredentials } from '../../adapters/onvif/soap.ts';

export interface DiscoverOptions {
  /** `HOST:PORT` to probe one device instead of the multicast group. */
  readonly probe: string | undefined;
  readonly credentials: OnvifCredentials;
  readonly timeoutMs: number;
}

/** A config-safe camera name from what the device says it is. */
export function cameraName(text: string, index: number): string {
  const name = text.toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^[^a-z0-9]+|-+$/g, '').slice(0, 40);
  return name || `onvif-${index + 1}`;
}

function probeTarget(probe: string | undefined): { address: string; port: number } {
  if (probe === undefined) return { address: DISCOVERY_ADDRESS, port: DISCOVERY_PORT };
  const match = /^\[?([^\]]+?)\]?:(\d{1,5})$/.exec(probe);
  const port = Number(match?.[2]);
  if (!match || !(port > 0 && port < 65536)) throw new Error(`--probe wants HOST:PORT, not "${probe}"`);
  return { address: match[1]!, port };
}

function describeProfile(profile: MediaProfile): string {
  const size = profile.width && profile.height ? ` ${profile.width}x${profile.height}` : '';
  return `${profile.name || profile.token}${size}${profile.ptz ? ' (PTZ)' : ''}`;
}

/** One ready-to-paste Camera block for a device, with what it told about itself in comments. */
async function cameraBlock(device: DiscoveredDevice, index: number, options: DiscoverOptions): Promise<string> {
  const xaddr = new URL(device.xaddrs[0]!);
  const source = `onvif://${xaddr.host}${xaddr.pathname === '/onvif/device_service' ? '/' : xaddr.pathname}`;
  const scopeName = device.scopes.map((scope) => /\/name\/(.+)$/.exec(scope)?.[1]).find(Boolean);
  const lines: string[] = [];
  let name = cameraName(decodeURIComponent(scopeName ?? ''), index);
  let control = false;
  try {
    const client = new OnvifDevice(deviceServiceUrl(source), options.credentials, options.timeoutMs);
    const { summary, mediaUrl, profile } = await mainProfile(client, false);
    const profiles = await client.profiles(mediaUrl);
    const rtsp = await client.streamUri(mediaUrl, profile.token).catch(() => undefined);
    name = cameraName(`${summary.manufacturer} ${summary.model}`, index);
    control = Boolean(summary.ptzUrl) && profiles.some((candidate) => candidate.ptz);
    lines.push(`# ${summary.manufacturer} ${summary.model} at ${xaddr.host}; profiles: ${profiles.map(describeProfile).join(', ')}`);
    if (rtsp) lines.push(`# RTSP: ${rtsp}`);
  } catch (error) {
    lines.push(`# ${xaddr.host}: answered the probe, but ${(error as Error).message} (give --username and --password?)`);
  }
  lines.push(`<Camera ${name}>`, `  Source ${source}`);
  if (options.credentials.username !== undefined) lines.push(`  Username ${options.credentials.username}`, `  Password ${options.credentials.password ?? ''}`);
  if (control) lines.push('  Control onvif');
  lines.push('</Camera>');
  return lines.join('\n');
}

/** `relay --discover`: probes for ONVIF cameras and prints a Camera block for each. */
export async function discoverCommand(options: DiscoverOptions, out: NodeJS.WritableStream, err: NodeJS.WritableStream): Promise<number> {
  let target;
  try {
    target = probeTarget(options.probe);
  } catch (error) {
    err.write(`relay: ${(error as Error).message}\n`);
    return 2;
  }
  const devices = await discover(target, options.timeoutMs);
  if (devices.length === 0) {
    err.write(`relay: no ONVIF camera answered a probe to ${target.address}:${target.port} within ${options.timeoutMs / 1000} s\n`);
    return 1;
  }
  const blocks = [];
  for (const [index, device] of devices.entries()) blocks.push(await cameraBlock(device, index, options));
  out.write(`${blocks.join('\n\n')}\n`);
  return 0;
}
