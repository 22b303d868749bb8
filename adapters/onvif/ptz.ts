import type { OnvifDevice } from './device.ts';
import { child, children, OnvifError, path, textOf, xmlText, type XmlNode } from './soap.ts';

/** A position or velocity in ONVIF's generic spaces: pan and tilt from -1 to 1, zoom from 0 (wide) to 1 (tele). */
export interface NormalisedPtz {
  readonly x: number;
  readonly y: number;
  readonly zoom: number;
}

export interface OnvifPreset {
  readonly token: string;
  readonly name: string;
}

const MAX_PRESETS = 100;

function number(value: number): string {
  return Number.isFinite(value) ? value.toFixed(4) : '0';
}

function vector(tag: 'Velocity' | 'Position', ptz: NormalisedPtz): string {
  return `<tptz:${tag}><tt:PanTilt x="${number(ptz.x)}" y="${number(ptz.y)}"/><tt:Zoom x="${number(ptz.zoom)}"/></tptz:${tag}>`;
}

/** A finite number in [low, high] from an attribute, or undefined. */
function coordinate(node: XmlNode | undefined, attribute: string, low: number, high: number): number | undefined {
  const value = Number(textOf(node?.[`@_${attribute}`]));
  return Number.isFinite(value) && value >= low && value <= high ? value : undefined;
}

/** ONVIF PTZ service calls on one media profile. */
export class OnvifPtz {
  constructor(
    private readonly device: OnvifDevice,
    private readonly ptzUrl: string,
    private readonly profileToken: string,
  ) {}

  private profile(): string {
    return `<tptz:ProfileToken>${xmlText(this.profileToken)}</tptz:ProfileToken>`;
  }

  /** Moves at `velocity` for at most `seconds`, after which the camera stops by itself. */
  async continuousMove(velocity: NormalisedPtz, seconds: number): Promise<void> {
    await this.device.call(this.ptzUrl, `<tptz:ContinuousMove>${this.profile()}${vector('Velocity', velocity)}<tptz:Timeout>PT${seconds}S</tptz:Timeout></tptz:ContinuousMove>`);
  }

  async absoluteMove(position: NormalisedPtz): Promise<void> {
    await this.device.call(this.ptzUrl, `<tptz:AbsoluteMove>${this.profile()}${vector('Position', position)}</tptz:AbsoluteMove>`);
  }

  async stop(): Promise<void> {
    await this.device.call(this.ptzUrl, `<tptz:Stop>${this.profile()}<tptz:PanTilt>true</tptz:PanTilt><tptz:Zoom>true</tptz:Zoom></tptz:Stop>`);
  }

  async presets(): Promise<OnvifPreset[]> {
    const reply = child(await this.device.call(this.ptzUrl, `<tptz:GetPresets>${this.profile()}</tptz:GetPresets>`), 'GetPresetsResponse');
    const presets: OnvifPreset[] = [];
    for (const preset of children(reply, 'Preset').slice(0, MAX_PRESETS)) {
      const token = textOf(preset['@_token']);
      const name = textOf(child(preset, 'Name')) ?? token;
      if (token && name && /^[\x21-\x7e]{1,64}$/.test(token)) presets.push({ token, name: name.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 32) });
    }
    return presets;
  }

  async gotoPreset(token: string): Promise<void> {
    await this.device.call(this.ptzUrl, `<tptz:GotoPreset>${this.profile()}<tptz:PresetToken>${xmlText(token)}</tptz:PresetToken></tptz:GotoPreset>`);
  }

  /** The camera's position, or a PROTOCOL error when its status names none. */
  async status(): Promise<NormalisedPtz> {
    const position = path(await this.device.call(this.ptzUrl, `<tptz:GetStatus>${this.profile()}</tptz:GetStatus>`), 'GetStatusResponse', 'PTZStatus', 'Position');
    const panTilt = child(position, 'PanTilt');
    const x = coordinate(panTilt, 'x', -1, 1);
    const y = coordinate(panTilt, 'y', -1, 1);
    const zoom = coordinate(child(position, 'Zoom'), 'x', 0, 1);
    if (x === undefined || y === undefined || zoom === undefined) throw new OnvifError('PROTOCOL', 'GetStatus gave no position in the generic spaces');
    return { x, y, zoom };
  }
}
