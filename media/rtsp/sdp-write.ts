import { randomInt } from 'node:crypto';
import { unmapIpv4 } from '../../lib/address.ts';

/**
 * The session description of one stream (RFC 4566), one video track whose control URL is `trackID=0` relative to
 * the Content-Base the DESCRIBE reply sends.
 */
export function buildSdp(options: { name: string; serverAddress: string; mediaLines: readonly string[] }): string {
  // A dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d; SDP names them as the IPv4 addresses they are.
  const address = unmapIpv4(options.serverAddress);
  const family = address.includes(':') ? 'IP6' : 'IP4';
  const lines = [
    'v=0',
    `o=- ${randomInt(1, 2 ** 31)} 1 IN ${family} ${address}`,
    `s=${options.name}`,
    `c=IN ${family} ${family === 'IP6' ? '::' : '0.0.0.0'}`,
    't=0 0',
    'a=tool:camera-relay',
    'a=control:*',
    ...options.mediaLines,
  ];
  return `${lines.join('\r\n')}\r\n`;
}
