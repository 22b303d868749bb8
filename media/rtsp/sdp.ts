import { ProtocolError } from '../errors.ts';

/** Limits on a session description; the RTSP body limit bounds its size already. */
const MAX_LINES = 1024;
const MAX_MEDIA = 32;

/** One m= section of a session description, with the attributes the client uses. */
export interface SdpMedia {
  /** "video", "audio", ... */
  readonly type: string;
  readonly protocol: string;
  readonly payloadTypes: readonly number[];
  /** a=control, unresolved. */
  readonly control: string | undefined;
  /** a=rtpmap for the first payload type: encoding name upper-cased, clock rate in Hz. */
  readonly encoding: string | undefined;
  readonly clockRate: number | undefined;
  /** a=rtpmap's encoding parameters for audio: the channel count, when given. */
  readonly channels?: number | undefined;
  /** a=fmtp parameters for the first payload type, names lower-cased. */
  readonly fmtp: ReadonlyMap<string, string>;
}

/** A parsed session description: the session-level control and the media sections. */
export interface SessionDescription {
  readonly control: string | undefined;
  readonly media: readonly SdpMedia[];
}

interface MediaDraft {
  type: string;
  protocol: string;
  payloadTypes: number[];
  control: string | undefined;
  rtpmaps: Map<number, string>;
  fmtps: Map<number, string>;
}

/** RFC 3551's static payload types the relay reads: encoding name and clock rate. */
const STATIC_PAYLOAD_TYPES: Record<number, [string, number]> = { 0: ['PCMU', 8000], 8: ['PCMA', 8000], 26: ['JPEG', 90_000] };

function sdpError(message: string): ProtocolError {
  return new ProtocolError(`SDP: ${message}`);
}

/** Parses an SDP (RFC 4566) body; throws ProtocolError on malformed lines or over-limit counts. */
export function parseSdp(text: string): SessionDescription {
  const lines = text.split(/\r?\n/);
  if (lines.length > MAX_LINES) throw sdpError(`more than ${MAX_LINES} lines`);
  if (!lines[0]?.startsWith('v=')) throw sdpError('does not start with v=');
  let sessionControl: string | undefined;
  const drafts: MediaDraft[] = [];
  for (const line of lines) {
    if (line.length === 0) continue;
    if (!/^[a-z]=/.test(line)) throw sdpError('malformed line');
    const value = line.slice(2);
    const current = drafts[drafts.length - 1];
    if (line[0] === 'm') {
      if (drafts.length >= MAX_MEDIA) throw sdpError(`more than ${MAX_MEDIA} media sections`);
      drafts.push(parseMediaLine(value));
    } else if (line[0] === 'a') {
      const colon = value.indexOf(':');
      const name = colon < 0 ? value : value.slice(0, colon);
      const attribute = colon < 0 ? '' : value.slice(colon + 1).trim();
      if (name === 'control') {
        if (current) current.control = attribute;
        else sessionControl = attribute;
      } else if (current && (name === 'rtpmap' || name === 'fmtp')) {
        const match = /^(\d{1,3})\s+(.*)$/.exec(attribute);
        if (!match) throw sdpError(`malformed a=${name}`);
        (name === 'rtpmap' ? current.rtpmaps : current.fmtps).set(Number(match[1]), match[2]!.trim());
      }
    }
  }
  return { control: sessionControl, media: drafts.map(finishMedia) };
}

function parseMediaLine(value: string): MediaDraft {
  const match = /^(\S+) (\d{1,5})(?:\/\d+)? (\S+)((?: \S+)*)$/.exec(value.trim());
  if (!match) throw sdpError('malformed m= line');
  const payloadTypes = match[4]!.trim().split(/\s+/).filter((token) => token.length > 0).map(Number);
  return {
    type: match[1]!,
    protocol: match[3]!,
    payloadTypes: payloadTypes.filter((type) => Number.isInteger(type) && type >= 0 && type <= 127),
    control: undefined,
    rtpmaps: new Map(),
    fmtps: new Map(),
  };
}

function finishMedia(draft: MediaDraft): SdpMedia {
  const payloadType = draft.payloadTypes[0];
  let encoding: string | undefined;
  let clockRate: number | undefined;
  let channels: number | undefined;
  const rtpmap = payloadType === undefined ? undefined : draft.rtpmaps.get(payloadType);
  if (rtpmap) {
    const match = /^([^/\s]+)\/(\d{1,9})(?:\/(\d{1,3}))?/.exec(rtpmap);
    if (!match) throw sdpError('malformed a=rtpmap');
    encoding = match[1]!.toUpperCase();
    clockRate = Number(match[2]);
    if (clockRate === 0) throw sdpError('zero clock rate');
    if (match[3] !== undefined) channels = Number(match[3]);
  } else if (payloadType !== undefined && STATIC_PAYLOAD_TYPES[payloadType]) {
    // The static payload types of RFC 3551 need no rtpmap.
    [encoding, clockRate] = STATIC_PAYLOAD_TYPES[payloadType]!;
  }
  const fmtp = new Map<string, string>();
  const fmtpText = payloadType === undefined ? undefined : draft.fmtps.get(payloadType);
  for (const parameter of (fmtpText ?? '').split(';')) {
    const equals = parameter.indexOf('=');
    if (equals <= 0) continue;
    fmtp.set(parameter.slice(0, equals).trim().toLowerCase(), parameter.slice(equals + 1).trim());
  }
  return { type: draft.type, protocol: draft.protocol, payloadTypes: draft.payloadTypes, control: draft.control, encoding, clockRate, channels, fmtp };
}

/** Resolves a media control attribute against the content base (RFC 2326 C.1.1); "*" or none means the base itself. */
export function resolveControl(base: string, control: string | undefined): string {
  if (control === undefined || control === '*' || control === '') return base;
  if (/^rtsps?:\/\//i.test(control)) return control;
  const withSlash = base.endsWith('/') ? base : `${base}/`;
  return `${withSlash}${control.replace(/^\//, '')}`;
}
