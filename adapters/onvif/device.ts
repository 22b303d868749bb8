import { child, children, OnvifError, path, soapCall, textOf, xmlText, type OnvifCredentials, type XmlNode } from './soap.ts';

/** Where an onvif:// source or a Control onvif camera answers: its device service (ONVIF's usual path by default). */
export function deviceServiceUrl(address: string): string {
  const url = new URL(address);
  const http = new URL(`http://${url.host}`);
  http.pathname = url.pathname && url.pathname !== '/' ? url.pathname : '/onvif/device_service';
  return http.toString();
}

/** What a device says about itself and where its media and PTZ services are. */
export interface DeviceSummary {
  readonly manufacturer: string;
  readonly model: string;
  readonly mediaUrl: string | undefined;
  readonly ptzUrl: string | undefined;
}

export interface MediaProfile {
  readonly token: string;
  readonly name: string;
  /** Whether the profile has a PTZ configuration (a camera that pans, tilts or zooms). */
  readonly ptz: boolean;
  readonly width: number | undefined;
  readonly height: number | undefined;
}

/** A token or name the relay passes back: short, printable, no markup. */
function safeToken(text: string | undefined, what: string): string {
  if (text === undefined || !/^[\x21-\x7e ]{1,64}$/.test(text)) throw new OnvifError('PROTOCOL', `the device's ${what} is missing or not a short printable text`);
  return text;
}

/** A service address from a reply, kept only when it is an http(s) URL on the device's own host. */
function serviceUrl(value: string | undefined, deviceUrl: string): string | undefined {
  if (value === undefined) return undefined;
  try {
    const url = new URL(value.trim().split(/\s+/)[0]!);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
    // A device behind NAT often reports its private address: the relay keeps talking to the host it was given.
    url.host = new URL(deviceUrl).host;
    return url.toString();
  } catch {
    return undefined;
  }
}

/** One ONVIF device: its device, media and PTZ services, asked with the same credentials and timeout. */
export class OnvifDevice {
  constructor(
    readonly deviceUrl: string,
    private readonly credentials: OnvifCredentials,
    private readonly timeoutMs: number,
  ) {}

  call(url: string, body: string): Promise<XmlNode> {
    return soapCall(url, body, this.credentials, this.timeoutMs);
  }

  async summary(): Promise<DeviceSummary> {
    const info = child(await this.call(this.deviceUrl, '<tds:GetDeviceInformation/>'), 'GetDeviceInformationResponse');
    const capabilities = path(
      await this.call(this.deviceUrl, '<tds:GetCapabilities><tds:Category>All</tds:Category></tds:GetCapabilities>'),
      'GetCapabilitiesResponse', 'Capabilities',
    );
    return {
      manufacturer: (textOf(child(info, 'Manufacturer')) ?? '').slice(0, 64),
      model: (textOf(child(info, 'Model')) ?? '').slice(0, 64),
      mediaUrl: serviceUrl(textOf(path(capabilities, 'Media', 'XAddr')), this.deviceUrl),
      ptzUrl: serviceUrl(textOf(path(capabilities, 'PTZ', 'XAddr')), this.deviceUrl),
    };
  }

  async profiles(mediaUrl: string): Promise<MediaProfile[]> {
    const reply = child(await this.call(mediaUrl, '<trt:GetProfiles/>'), 'GetProfilesResponse');
    return children(reply, 'Profiles').slice(0, 32).map((profile) => {
      const resolution = path(profile, 'VideoEncoderConfiguration', 'Resolution');
      const width = Number(textOf(child(resolution, 'Width')));
      const height = Number(textOf(child(resolution, 'Height')));
      return {
        token: safeToken(textOf(profile['@_token']), 'profile token'),
        name: (textOf(child(profile, 'Name')) ?? '').slice(0, 64),
        ptz: child(profile, 'PTZConfiguration') !== undefined,
        width: Number.isInteger(width) && width > 0 ? width : undefined,
        height: Number.isInteger(height) && height > 0 ? height : undefined,
      };
    });
  }

  /** The RTSP address of a profile's stream (RTP over RTSP, unicast). */
  async streamUri(mediaUrl: string, profileToken: string): Promise<string> {
    const body = '<trt:GetStreamUri><trt:StreamSetup><tt:Stream>RTP-Unicast</tt:Stream><tt:Transport><tt:Protocol>RTSP</tt:Protocol>'
      + `</tt:Transport></trt:StreamSetup><trt:ProfileToken>${xmlText(profileToken)}</trt:ProfileToken></trt:GetStreamUri>`;
    const uri = textOf(path(await this.call(mediaUrl, body), 'GetStreamUriResponse', 'MediaUri', 'Uri'));
    if (uri === undefined || !/^rtsps?:\/\//i.test(uri.trim())) throw new OnvifError('PROTOCOL', 'GetStreamUri gave no rtsp:// address');
    return uri.trim();
  }

  async snapshotUri(mediaUrl: string, profileToken: string): Promise<string | undefined> {
    const body = `<trt:GetSnapshotUri><trt:ProfileToken>${xmlText(profileToken)}</trt:ProfileToken></trt:GetSnapshotUri>`;
    const uri = textOf(path(await this.call(mediaUrl, body), 'GetSnapshotUriResponse', 'MediaUri', 'Uri'))?.trim();
    return uri && /^https?:\/\//i.test(uri) ? uri : undefined;
  }
}

/** The device's media service and its first profile (the one with PTZ when `wantPtz`), or a clear error. */
export async function mainProfile(device: OnvifDevice, wantPtz: boolean): Promise<{ summary: DeviceSummary; mediaUrl: string; profile: MediaProfile }> {
  const summary = await device.summary();
  if (!summary.mediaUrl) throw new OnvifError('PROTOCOL', 'the device names no media service');
  const profiles = await device.profiles(summary.mediaUrl);
  const profile = (wantPtz ? profiles.find((candidate) => candidate.ptz) : undefined) ?? profiles[0];
  if (!profile) throw new OnvifError('PROTOCOL', 'the device has no media profile');
  return { summary, mediaUrl: summary.mediaUrl, profile };
}
