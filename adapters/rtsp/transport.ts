import { AdapterError } from '../errors.ts';

/** What the server chose in its SETUP reply's Transport header. */
export interface TransportReply {
  readonly tcp: boolean;
  readonly interleaved: readonly [number, number] | undefined;
  readonly serverPorts: readonly [number, number] | undefined;
}

/** The session id and its timeout from a Session header ("id;timeout=60"). */
export interface SessionInfo {
  readonly id: string;
  readonly timeoutSeconds: number;
}

const DEFAULT_SESSION_TIMEOUT_SECONDS = 60;

function parsePair(value: string | undefined, max: number): [number, number] | undefined {
  const match = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(value ?? '');
  if (!match) return undefined;
  const first = Number(match[1]);
  const second = match[2] === undefined ? first + 1 : Number(match[2]);
  return first <= max && second <= max ? [first, second] : undefined;
}

/** The Transport header the client asks with: interleaved channels over TCP, or a UDP client port pair. */
export function transportRequest(tcp: boolean, clientPorts?: readonly [number, number], firstChannel = 0): string {
  if (tcp) return `RTP/AVP/TCP;unicast;interleaved=${firstChannel}-${firstChannel + 1}`;
  if (!clientPorts) throw new Error('UDP transport needs client ports');
  return `RTP/AVP;unicast;client_port=${clientPorts[0]}-${clientPorts[1]}`;
}

/** Parses the SETUP reply's Transport header; PROTOCOL if it is missing or unreadable. */
export function parseTransportReply(header: string | undefined): TransportReply {
  if (!header) throw new AdapterError('PROTOCOL', 'RTSP: SETUP reply without a Transport header');
  const first = header.split(',')[0]!;
  const [spec = '', ...parameters] = first.split(';').map((part) => part.trim());
  if (!/^RTP\/AVP(\/(TCP|UDP))?$/i.test(spec)) throw new AdapterError('PROTOCOL', 'RTSP: SETUP reply with an unknown transport');
  const values = new Map<string, string>();
  for (const parameter of parameters.slice(0, 32)) {
    const equals = parameter.indexOf('=');
    values.set((equals < 0 ? parameter : parameter.slice(0, equals)).toLowerCase(), equals < 0 ? '' : parameter.slice(equals + 1));
  }
  return {
    tcp: /\/TCP$/i.test(spec),
    interleaved: parsePair(values.get('interleaved'), 255),
    serverPorts: parsePair(values.get('server_port'), 65535),
  };
}

/** Parses a Session header; PROTOCOL if it is missing or unsafe to echo back. */
export function parseSession(header: string | undefined): SessionInfo {
  const [id = '', ...parameters] = (header ?? '').split(';').map((part) => part.trim());
  if (!/^[\w$\-.+]{1,128}$/.test(id)) throw new AdapterError('PROTOCOL', 'RTSP: SETUP reply without a usable Session header');
  let timeoutSeconds = DEFAULT_SESSION_TIMEOUT_SECONDS;
  for (const parameter of parameters) {
    const match = /^timeout\s*=\s*(\d{1,6})$/i.exec(parameter);
    if (match && Number(match[1]) > 0) timeoutSeconds = Number(match[1]);
  }
  return { id, timeoutSeconds };
}
