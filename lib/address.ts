import { isIP } from 'node:net';

/** `::ffff:127.0.0.1` (an IPv4 peer on a dual-stack socket) -> `127.0.0.1`, so addresses compare as configured; others unchanged. */
export function unmapIpv4(address: string): string {
  const inner = address.slice(7);
  return /^::ffff:/i.test(address) && isIP(inner) === 4 ? inner : address;
}

/** A peer's address as limits, logs and comparisons name it: without the IPv4 mapping, 'unknown' when a closed socket has none. */
export function plainAddress(address: string | undefined): string {
  return address ? unmapIpv4(address) : 'unknown';
}
