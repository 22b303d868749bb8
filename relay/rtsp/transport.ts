/** What a client asked for in SETUP's Transport header, reduced to what the server supports. */
export type TransportChoice =
  | { readonly kind: 'tcp'; readonly channels: readonly [number, number] | undefined }
  | { readonly kind: 'udp'; readonly clientPorts: readonly [number, number] };

/** Alternatives read from one header; a longer list is a hostile one. */
const MAX_ALTERNATIVES = 8;

function pair(value: string | undefined, min: number, max: number): [number, number] | undefined {
  const match = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(value ?? '');
  if (!match) return undefined;
  const first = Number(match[1]);
  const second = match[2] === undefined ? first + 1 : Number(match[2]);
  return first >= min && first <= max && second >= min && second <= max ? [first, second] : undefined;
}

/**
 * Picks the first alternative the server can serve (RFC 2326 12.39): RTP/AVP/TCP unicast with interleaved channels,
 * or RTP/AVP over UDP unicast with client_port (when `udp` is on). Multicast, other profiles and UDP without client
 * ports are not served; undefined means none fits (461 Unsupported Transport).
 */
export function chooseTransport(header: string | undefined, udp: boolean): TransportChoice | undefined {
  for (const alternative of (header ?? '').split(',').slice(0, MAX_ALTERNATIVES)) {
    const [spec = '', ...parameters] = alternative.split(';').map((part) => part.trim());
    const values = new Map<string, string>();
    for (const parameter of parameters.slice(0, 32)) {
      const equals = parameter.indexOf('=');
      values.set((equals < 0 ? parameter : parameter.slice(0, equals)).toLowerCase(), equals < 0 ? '' : parameter.slice(equals + 1));
    }
    if (values.has('multicast')) continue;
    if (/^RTP\/AVP\/TCP$/i.test(spec)) {
      const channels = values.has('interleaved') ? pair(values.get('interleaved'), 0, 255) : undefined;
      if (values.has('interleaved') && !channels) continue;
      return { kind: 'tcp', channels };
    }
    if (udp && /^RTP\/AVP(\/UDP)?$/i.test(spec)) {
      const clientPorts = pair(values.get('client_port'), 1, 65535);
      if (clientPorts) return { kind: 'udp', clientPorts };
    }
  }
  return undefined;
}
