import { isIP } from 'node:net';
import { plainAddress } from '../../lib/address.ts';

/** Longest X-Forwarded-For header considered; longer ones are treated as absent. */
const MAX_FORWARDED_LENGTH = 2048;

/**
 * The client's address: the socket's peer, unless that peer is a trusted proxy, in which case X-Forwarded-For is read
 * from the right (the hop nearest to us) past every trusted proxy to the first address that is not one. Entries a
 * client wrote itself sit further left and are never reached unless every hop after them is trusted; garbage stops
 * the walk at the last address known to be real.
 */
export function clientAddress(peer: string | undefined, forwardedFor: string | undefined, trusted: readonly string[]): string {
  let address = plainAddress(peer);
  if (!forwardedFor || trusted.length === 0 || !trusted.includes(address) || forwardedFor.length > MAX_FORWARDED_LENGTH) return address;
  const hops = forwardedFor.split(',').map((hop) => plainAddress(hop.trim()));
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hops[i]!;
    if (isIP(hop) === 0) break;
    address = hop;
    if (!trusted.includes(hop)) break;
  }
  return address;
}
