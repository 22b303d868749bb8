import { randomUUID } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { isIP } from 'node:net';
import { children, parseReply, path, textOf } from './soap.ts';

/** WS-Discovery's multicast group and port (IPv4). */
export const DISCOVERY_ADDRESS = '239.255.255.250';
export const DISCOVERY_PORT = 3702;
/** Answers kept at most: a network (or a hostile host) answering more is cut off. */
const MAX_DEVICES = 64;

/** A device that answered a probe: its endpoint id, device service addresses and scopes (name, hardware...). */
export interface DiscoveredDevice {
  readonly endpoint: string;
  readonly xaddrs: readonly string[];
  readonly scopes: readonly string[];
  /** Where the answer came from. */
  readonly from: string;
}

/** A WS-Discovery Probe for ONVIF video transmitters. */
export function probeMessage(messageId: string): string {
  return '<?xml version="1.0" encoding="UTF-8"?><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" '
    + 'xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery" '
    + 'xmlns:dn="http://www.onvif.org/ver10/network/wsdl"><s:Header>'
    + `<a:MessageID>urn:uuid:${messageId}</a:MessageID><a:To>urn:schemas-xmlsoap-org:ws:2005:04:discovery</a:To>`
    + '<a:Action>http://schemas.xmlsoap.org/ws/2005/04/discovery/Probe</a:Action></s:Header>'
    + '<s:Body><d:Probe><d:Types>dn:NetworkVideoTransmitter</d:Types></d:Probe></s:Body></s:Envelope>';
}

const printable = (text: string, max: number): string => text.replace(/[^\x21-\x7e]/g, '').slice(0, max);

/** The devices a ProbeMatches answer lists; anything malformed, hostile or not http(s) is left out. */
export function parseProbeMatches(xml: string, from: string): DiscoveredDevice[] {
  let body;
  try {
    body = parseReply(xml);
  } catch {
    return [];
  }
  const devices: DiscoveredDevice[] = [];
  for (const match of children(path(body, 'ProbeMatches'), 'ProbeMatch').slice(0, 8)) {
    const xaddrs = (textOf(match.XAddrs) ?? '').split(/\s+/).filter((address) => /^https?:\/\/[^\s]{1,200}$/i.test(address)).slice(0, 4);
    if (xaddrs.length === 0) continue;
    try {
      xaddrs.forEach((address) => new URL(address));
    } catch {
      continue;
    }
    devices.push({
      endpoint: printable(textOf(path(match, 'EndpointReference', 'Address')) ?? '', 128),
      xaddrs,
      scopes: (textOf(match.Scopes) ?? '').split(/\s+/).map((scope) => printable(scope, 200)).filter(Boolean).slice(0, 16),
      from,
    });
  }
  return devices;
}

/**
 * Sends a probe to `target` (the multicast group, or one address for a single device) and collects the answers for
 * `timeoutMs`; each endpoint is listed once.
 */
export async function discover(target: { address: string; port: number } = { address: DISCOVERY_ADDRESS, port: DISCOVERY_PORT }, timeoutMs = 3000): Promise<DiscoveredDevice[]> {
  const socket = createSocket(isIP(target.address) === 6 ? 'udp6' : 'udp4');
  const found = new Map<string, DiscoveredDevice>();
  const messageId = randomUUID();
  socket.on('message', (message, from) => {
    if (found.size >= MAX_DEVICES || message.length > 64 * 1024) return;
    for (const device of parseProbeMatches(message.toString('utf8'), from.address)) {
      const key = device.endpoint || device.xaddrs[0]!;
      if (!found.has(key) && found.size < MAX_DEVICES) found.set(key, device);
    }
  });
  socket.on('error', () => {});
  await new Promise<void>((resolve) => socket.bind(0, resolve));
  const probe = Buffer.from(probeMessage(messageId));
  // UDP may lose a datagram: WS-Discovery clients send the probe more than once.
  let open = true;
  for (const delay of [0, 250]) setTimeout(() => open && socket.send(probe, target.port, target.address, () => {}), delay).unref();
  await new Promise((resolve) => setTimeout(resolve, timeoutMs));
  open = false;
  socket.close();
  return [...found.values()];
}
