import { createSocket, type Socket } from 'node:dgram';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { XMLParser } from 'fast-xml-parser';
import { passwordDigest } from '../../adapters/onvif/soap.ts';

/**
 * An ONVIF device for tests: device, media and PTZ services over SOAP 1.2 with WS-Security digest checks, a position
 * that ContinuousMove drives in time and AbsoluteMove/GotoPreset set, a WS-Discovery responder on a UDP port of
 * 127.0.0.1, and faults switched on at run time.
 */
export type OnvifFault = 'none' | 'soap-fault' | 'malformed' | 'xml-bomb' | 'hang' | 'huge' | 'http-500';

export interface OnvifDeviceOptions {
  readonly username?: string;
  readonly password?: string;
  /** What GetStreamUri answers. */
  streamUri?: string;
  readonly model?: string;
}

export interface ReceivedCall {
  readonly service: string;
  readonly operation: string;
  readonly at: number;
  readonly body: Record<string, unknown>;
}

const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@_', removeNSPrefix: true, parseTagValue: false });

function soap(body: string): string {
  return '<?xml version="1.0" encoding="UTF-8"?><env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope" '
    + 'xmlns:tt="http://www.onvif.org/ver10/schema" xmlns:tds="http://www.onvif.org/ver10/device/wsdl" '
    + 'xmlns:trt="http://www.onvif.org/ver10/media/wsdl" xmlns:tptz="http://www.onvif.org/ver20/ptz/wsdl">'
    + `<env:Body>${body}</env:Body></env:Envelope>`;
}

function fault(subcode: string, reason: string): string {
  return soap(`<env:Fault><env:Code><env:Value>env:Sender</env:Value><env:Subcode><env:Value>${subcode}</env:Value></env:Subcode></env:Code>`
    + `<env:Reason><env:Text xml:lang="en">${reason}</env:Text></env:Reason></env:Fault>`);
}

const XML_BOMB = '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
  + '<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope"><env:Body><x>&lol2;</x></env:Body></env:Envelope>';

const clamp = (value: number, low: number, high: number): number => Math.min(high, Math.max(low, value));

export class OnvifDeviceSimulator {
  readonly calls: ReceivedCall[] = [];
  fault: OnvifFault = 'none';
  /** What GetStreamUri answers; changed at run time to move the stream. */
  streamUri: string | undefined;
  /** Position in ONVIF's generic spaces. */
  position = { x: 0, y: 0, zoom: 0 };
  readonly presets = new Map<string, { name: string; x: number; y: number; zoom: number }>([
    ['1', { name: 'Door', x: -0.5, y: 0.1, zoom: 0.2 }],
    ['2', { name: 'Street', x: 0.5, y: -0.2, zoom: 0.6 }],
  ]);
  private velocity = { x: 0, y: 0, zoom: 0, until: 0, since: 0 };
  private server: Server | undefined;
  private discovery: Socket | undefined;
  port = 0;
  discoveryPort = 0;

  constructor(private readonly options: OnvifDeviceOptions = {}) {}

  get deviceUrl(): string {
    return `http://127.0.0.1:${this.port}/onvif/device_service`;
  }

  async start(): Promise<this> {
    this.server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        if (this.fault === 'hang') return;
        const { status, body } = this.answer(request.url ?? '/', Buffer.concat(chunks).toString('utf8'));
        response.writeHead(status, { 'content-type': 'application/soap+xml; charset=utf-8' });
        response.end(body);
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    this.discovery = createSocket('udp4');
    this.discovery.on('message', (message, from) => this.answerProbe(message.toString('utf8'), from.address, from.port));
    await new Promise<void>((resolve) => this.discovery!.bind(0, '127.0.0.1', resolve));
    this.discoveryPort = this.discovery.address().port;
    return this;
  }

  /** Safe twice. */
  async stop(): Promise<void> {
    const { server, discovery } = this;
    this.server = undefined;
    this.discovery = undefined;
    discovery?.close();
    server?.closeAllConnections();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  }

  /** The position now, with a continuous move applied up to this instant. */
  current(now = Date.now()): { x: number; y: number; zoom: number } {
    const end = Math.min(now, this.velocity.until);
    const seconds = Math.max(0, end - this.velocity.since) / 1000;
    return {
      x: clamp(this.position.x + this.velocity.x * seconds, -1, 1),
      y: clamp(this.position.y + this.velocity.y * seconds, -1, 1),
      zoom: clamp(this.position.zoom + this.velocity.zoom * seconds, 0, 1),
    };
  }

  private settle(now: number): void {
    this.position = this.current(now);
    this.velocity = { x: 0, y: 0, zoom: 0, until: 0, since: now };
  }

  private authorised(envelope: Record<string, unknown>): boolean {
    if (this.options.username === undefined) return true;
    const token = (((envelope.Header as Record<string, unknown> | undefined)?.Security as Record<string, unknown> | undefined)?.UsernameToken ?? {}) as Record<string, unknown>;
    const text = (value: unknown): string => (typeof value === 'string' ? value : String((value as Record<string, unknown> | undefined)?.['#text'] ?? ''));
    const nonce = Buffer.from(text(token.Nonce), 'base64');
    const created = text(token.Created);
    return text(token.Username) === this.options.username && text(token.Password) === passwordDigest(nonce, created, this.options.password ?? '');
  }

  private answer(url: string, xml: string): { status: number; body: string } {
    if (this.fault === 'malformed') return { status: 200, body: '<env:Envelope><env:Body><unclosed>' };
    if (this.fault === 'xml-bomb') return { status: 200, body: XML_BOMB };
    if (this.fault === 'huge') return { status: 200, body: soap(`<x>${'A'.repeat(1024 * 1024)}</x>`) };
    if (this.fault === 'http-500') return { status: 500, body: 'internal error' };
    let envelope: Record<string, unknown>;
    try {
      envelope = (parser.parse(xml) as Record<string, Record<string, unknown>>).Envelope ?? {};
    } catch {
      return { status: 400, body: fault('ter:InvalidArgVal', 'malformed request') };
    }
    const body = (envelope.Body ?? {}) as Record<string, unknown>;
    const operation = Object.keys(body)[0] ?? '';
    const service = url.split('/').pop() ?? '';
    this.calls.push({ service, operation, at: Date.now(), body: (body[operation] ?? {}) as Record<string, unknown> });
    if (!this.authorised(envelope)) return { status: 400, body: fault('ter:NotAuthorized', 'Sender not Authorized') };
    if (this.fault === 'soap-fault') return { status: 400, body: fault('ter:ActionNotSupported', 'the device refuses <this> & that') };
    return { status: 200, body: soap(this.operate(operation, (body[operation] ?? {}) as Record<string, unknown>)) };
  }

  private operate(operation: string, request: Record<string, unknown>): string {
    const now = Date.now();
    const base = `http://127.0.0.1:${this.port}/onvif`;
    const vector = (node: unknown): { x: number; y: number; zoom: number } => {
      const v = (node ?? {}) as Record<string, Record<string, string>>;
      return { x: Number(v.PanTilt?.['@_x'] ?? 0), y: Number(v.PanTilt?.['@_y'] ?? 0), zoom: Number(v.Zoom?.['@_x'] ?? 0) };
    };
    switch (operation) {
      case 'GetDeviceInformation':
        return `<tds:GetDeviceInformationResponse><tds:Manufacturer>Simulated</tds:Manufacturer><tds:Model>${this.options.model ?? 'PTZ-1'}</tds:Model>`
          + '<tds:FirmwareVersion>1.0</tds:FirmwareVersion><tds:SerialNumber>0001</tds:SerialNumber><tds:HardwareId>1</tds:HardwareId></tds:GetDeviceInformationResponse>';
      case 'GetCapabilities':
        // A NAT'd device reports a private address: the client must keep the host it was given.
        return '<tds:GetCapabilitiesResponse><tds:Capabilities>'
          + `<tt:Media><tt:XAddr>http://10.0.0.9:${this.port}/onvif/media</tt:XAddr></tt:Media>`
          + `<tt:PTZ><tt:XAddr>${base}/ptz</tt:XAddr></tt:PTZ></tds:Capabilities></tds:GetCapabilitiesResponse>`;
      case 'GetProfiles':
        return '<trt:GetProfilesResponse><trt:Profiles token="main" fixed="true"><tt:Name>Main</tt:Name>'
          + '<tt:VideoEncoderConfiguration token="v1"><tt:Encoding>H264</tt:Encoding><tt:Resolution><tt:Width>640</tt:Width><tt:Height>480</tt:Height></tt:Resolution></tt:VideoEncoderConfiguration>'
          + '<tt:PTZConfiguration token="ptz1"><tt:Name>PTZ</tt:Name></tt:PTZConfiguration></trt:Profiles></trt:GetProfilesResponse>';
      case 'GetStreamUri':
        return `<trt:GetStreamUriResponse><trt:MediaUri><tt:Uri>${this.streamUri ?? this.options.streamUri ?? 'rtsp://127.0.0.1:554/main'}</tt:Uri></trt:MediaUri></trt:GetStreamUriResponse>`;
      case 'GetSnapshotUri':
        return `<trt:GetSnapshotUriResponse><trt:MediaUri><tt:Uri>${base}/snapshot.jpg</tt:Uri></trt:MediaUri></trt:GetSnapshotUriResponse>`;
      case 'ContinuousMove': {
        this.settle(now);
        const velocity = vector(request.Velocity);
        const timeout = /^PT([\d.]+)S$/.exec(String(request.Timeout ?? ''))?.[1];
        this.velocity = { ...velocity, since: now, until: now + (timeout ? Number(timeout) * 1000 : 60_000) };
        return '<tptz:ContinuousMoveResponse/>';
      }
      case 'AbsoluteMove':
        this.settle(now);
        this.position = vector(request.Position);
        return '<tptz:AbsoluteMoveResponse/>';
      case 'Stop':
        this.settle(now);
        return '<tptz:StopResponse/>';
      case 'GetPresets':
        return `<tptz:GetPresetsResponse>${[...this.presets].map(([token, preset]) => `<tptz:Preset token="${token}"><tt:Name>${preset.name}</tt:Name></tptz:Preset>`).join('')}</tptz:GetPresetsResponse>`;
      case 'GotoPreset': {
        const preset = this.presets.get(String(request.PresetToken ?? ''));
        if (!preset) return '<tptz:GotoPresetResponse/>';
        this.settle(now);
        this.position = { x: preset.x, y: preset.y, zoom: preset.zoom };
        return '<tptz:GotoPresetResponse/>';
      }
      case 'GetStatus': {
        const { x, y, zoom } = this.current(now);
        return `<tptz:GetStatusResponse><tptz:PTZStatus><tt:Position><tt:PanTilt x="${x}" y="${y}"/><tt:Zoom x="${zoom}"/></tt:Position></tptz:PTZStatus></tptz:GetStatusResponse>`;
      }
      default:
        return `<unknown operation="${operation.replace(/[^A-Za-z]/g, '')}"/>`;
    }
  }

  private answerProbe(message: string, address: string, port: number): void {
    if (!message.includes('Probe')) return;
    const relatesTo = /MessageID[^>]*>([^<]+)</.exec(message)?.[1] ?? '';
    const reply = '<?xml version="1.0" encoding="UTF-8"?><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" '
      + 'xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery">'
      + `<s:Header><a:Action>http://schemas.xmlsoap.org/ws/2005/04/discovery/ProbeMatches</a:Action><a:RelatesTo>${relatesTo}</a:RelatesTo></s:Header>`
      + '<s:Body><d:ProbeMatches><d:ProbeMatch><a:EndpointReference><a:Address>urn:uuid:00000000-0000-0000-0000-000000000001</a:Address></a:EndpointReference>'
      + '<d:Types>dn:NetworkVideoTransmitter</d:Types><d:Scopes>onvif://www.onvif.org/name/Simulated onvif://www.onvif.org/hardware/PTZ-1</d:Scopes>'
      + `<d:XAddrs>${this.deviceUrl}</d:XAddrs><d:MetadataVersion>1</d:MetadataVersion></d:ProbeMatch></d:ProbeMatches></s:Body></s:Envelope>`;
    this.discovery?.send(reply, port, address);
  }
}
