import { ValueError, type ValueParser } from './values.ts';

/** A STUN or TURN server as players are handed it (the browser's RTCIceServer). */
export interface IceServer {
  readonly urls: string;
  readonly username?: string;
  readonly credential?: string;
}

/** At most this many ICE servers or extra host addresses: each costs every player a gathering round or a candidate. */
const MAX_ENTRIES = 8;
const HOST = String.raw`(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]{2,45}\])`;
const ICE_URL = new RegExp(String.raw`^(stuns?|turns?):(?:([^:@\s]{1,128}):([^@\s]{1,128})@)?(${HOST})(?::(\d{1,5}))?(\?transport=(?:udp|tcp))?$`);

/**
 * `WebRTCICEServers stun:HOST[:PORT] turn:USER:PASSWORD@HOST[:PORT][?transport=udp|tcp] ...`: TURN needs its
 * credentials (players are handed them), STUN takes none.
 */
export const iceServers: ValueParser<readonly IceServer[]> = (args) => {
  if (args.length === 0) return new ValueError('takes one or more stun: or turn: URLs');
  if (args.length > MAX_ENTRIES) return new ValueError(`takes at most ${MAX_ENTRIES} servers`);
  const servers: IceServer[] = [];
  for (const arg of args) {
    const match = ICE_URL.exec(arg);
    const shown = arg.replace(/:[^:@]*@/, ':***@');
    if (!match) return new ValueError(`"${shown}" is not stun:HOST[:PORT] or turn:USER:PASSWORD@HOST[:PORT][?transport=udp|tcp]`);
    const [, scheme = '', username, credential, host = '', port, transport = ''] = match;
    if (port !== undefined && (Number(port) < 1 || Number(port) > 65535)) return new ValueError(`"${shown}": port ${port} is out of range (1 to 65535)`);
    const turn = scheme.startsWith('turn');
    if (turn && username === undefined) return new ValueError(`"${shown}": a TURN server needs USER:PASSWORD@`);
    if (!turn && (username !== undefined || transport)) return new ValueError(`"${shown}": a STUN server takes no credentials or transport`);
    const urls = `${scheme}:${host}${port === undefined ? '' : `:${port}`}${transport}`;
    servers.push(turn ? { urls, username: decodeURIComponent(username!), credential: decodeURIComponent(credential!) } : { urls });
  }
  return servers;
};

const IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;
const IPV6 = /^[0-9A-Fa-f:.]{2,45}$/;

/** `WebRTCAdditionalHosts ADDRESS ...`: IP addresses (the public one behind NAT) written into answers as host candidates. */
export const additionalHosts: ValueParser<readonly string[]> = (args) => {
  if (args.length === 0) return new ValueError('takes one or more IP addresses');
  if (args.length > MAX_ENTRIES) return new ValueError(`takes at most ${MAX_ENTRIES} addresses`);
  for (const arg of args) {
    if (!IPV4.test(arg) && !(arg.includes(':') && IPV6.test(arg))) return new ValueError(`"${arg}" is not an IPv4 or IPv6 address`);
  }
  return [...new Set(args)];
};
