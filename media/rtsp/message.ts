import { ProtocolError } from '../errors.ts';

/** Limits on what one RTSP message may hold; a camera that exceeds them is broken or hostile. */
export const RTSP_LIMITS = {
  maxHeaders: 64,
  /** Start line plus headers plus the blank line. */
  maxHeaderBytes: 16 * 1024,
  maxBodyBytes: 64 * 1024,
} as const;

/** Header fields in arrival order; names compare case-insensitively, as RTSP/1.0 says. */
export class RtspHeaders {
  readonly entries: Array<[string, string]> = [];

  constructor(entries: Iterable<readonly [string, string]> = []) {
    for (const [name, value] of entries) this.entries.push([name, value]);
  }

  /** The first value of `name`, or undefined. */
  get(name: string): string | undefined {
    const wanted = name.toLowerCase();
    return this.entries.find(([key]) => key.toLowerCase() === wanted)?.[1];
  }

  /** Every value of `name` (WWW-Authenticate may appear once per scheme). */
  getAll(name: string): string[] {
    const wanted = name.toLowerCase();
    return this.entries.filter(([key]) => key.toLowerCase() === wanted).map(([, value]) => value);
  }
}

/** One RTSP request or response: its start line, headers and body. */
export interface RtspMessage {
  readonly startLine: string;
  readonly headers: RtspHeaders;
  readonly body: Buffer;
}

/** A response's status line, split. */
export interface RtspStatus {
  readonly status: number;
  readonly reason: string;
}

/** A request's line, split. */
export interface RtspRequestLine {
  readonly method: string;
  readonly uri: string;
}

/** What the client sends: method, URI, headers (CSeq and Content-Length are filled in by the serialiser). */
export interface RtspRequest {
  readonly method: string;
  readonly uri: string;
  readonly headers: ReadonlyArray<readonly [string, string]>;
  readonly body?: Buffer;
}

const CRLF2 = Buffer.from('\r\n\r\n');
const LF2 = Buffer.from('\n\n');
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

function protocolError(message: string): ProtocolError {
  return new ProtocolError(`RTSP: ${message}`);
}

/** Rejects text that would let a value smuggle a header or a line into a message. */
function checkFieldText(text: string, what: string): void {
  if (/[\r\n\0]/.test(text)) throw protocolError(`${what} contains a line break`);
}

/** Serialises a request with its CSeq; throws on values that would break the framing. */
export function serializeRequest(request: RtspRequest, cseq: number): Buffer {
  if (!TOKEN.test(request.method)) throw protocolError('bad method name');
  checkFieldText(request.uri, 'request URI');
  if (/\s/.test(request.uri)) throw protocolError('request URI contains white space');
  const lines = [`${request.method} ${request.uri} RTSP/1.0`, `CSeq: ${cseq}`];
  for (const [name, value] of request.headers) {
    if (!TOKEN.test(name)) throw protocolError('bad header name');
    checkFieldText(value, `header ${name}`);
    lines.push(`${name}: ${value}`);
  }
  const body = request.body ?? Buffer.alloc(0);
  if (body.length > 0) lines.push(`Content-Length: ${body.length}`);
  return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'utf8'), body]);
}

/** Serialises a response (for servers, and for tests that play one). */
export function serializeResponse(status: number, reason: string, headers: ReadonlyArray<readonly [string, string]>, body = Buffer.alloc(0)): Buffer {
  const lines = [`RTSP/1.0 ${status} ${reason}`];
  for (const [name, value] of headers) lines.push(`${name}: ${value}`);
  if (body.length > 0) lines.push(`Content-Length: ${body.length}`);
  return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'utf8'), body]);
}

/** Where the header block ends: the offset just past the blank line, or -1 if it has not arrived yet. */
function headerBlockEnd(view: Buffer): number {
  const limit = Math.min(view.length, RTSP_LIMITS.maxHeaderBytes + 4);
  const window = view.subarray(0, limit);
  const crlf = window.indexOf(CRLF2);
  const lf = window.indexOf(LF2);
  if (crlf >= 0 && (lf < 0 || crlf < lf)) return crlf + 4;
  if (lf >= 0) return lf + 2;
  if (view.length > RTSP_LIMITS.maxHeaderBytes) throw protocolError(`header block larger than ${RTSP_LIMITS.maxHeaderBytes} bytes`);
  return -1;
}

/**
 * Parses one whole message at the start of `view`. Returns it with the bytes it used, or undefined when more bytes are
 * needed. Throws ProtocolError on anything malformed or over the limits, so a caller never buffers past them.
 */
export function parseMessage(view: Buffer): { message: RtspMessage; length: number } | undefined {
  const end = headerBlockEnd(view);
  if (end < 0) return undefined;
  const text = view.subarray(0, end).toString('latin1');
  const lines = text.split(/\r?\n/).slice(0, -2);
  const startLine = lines[0] ?? '';
  if (startLine.length === 0) throw protocolError('empty start line');
  if (lines.length - 1 > RTSP_LIMITS.maxHeaders) throw protocolError(`more than ${RTSP_LIMITS.maxHeaders} headers`);
  const headers = new RtspHeaders();
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon <= 0) throw protocolError('header line without a name');
    const name = line.slice(0, colon).trim();
    if (!TOKEN.test(name)) throw protocolError('bad header name');
    headers.entries.push([name, line.slice(colon + 1).trim()]);
  }
  const lengthText = headers.get('Content-Length');
  let bodyLength = 0;
  if (lengthText !== undefined) {
    if (!/^\d{1,9}$/.test(lengthText)) throw protocolError('bad Content-Length');
    bodyLength = Number(lengthText);
    if (bodyLength > RTSP_LIMITS.maxBodyBytes) throw protocolError(`body larger than ${RTSP_LIMITS.maxBodyBytes} bytes`);
  }
  if (view.length < end + bodyLength) return undefined;
  const body = Buffer.from(view.subarray(end, end + bodyLength));
  return { message: { startLine, headers, body }, length: end + bodyLength };
}

/** Splits "RTSP/1.0 200 OK"; throws PROTOCOL if the line is not a status line. */
export function parseStatusLine(line: string): RtspStatus {
  const match = /^RTSP\/1\.\d (\d{3})(?: (.*))?$/.exec(line);
  if (!match) throw protocolError('malformed status line');
  return { status: Number(match[1]), reason: (match[2] ?? '').slice(0, 200) };
}

/** Splits "DESCRIBE rtsp://... RTSP/1.0"; throws PROTOCOL if the line is not a request line. */
export function parseRequestLine(line: string): RtspRequestLine {
  const match = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+) (\S+) RTSP\/1\.\d$/.exec(line);
  if (!match) throw protocolError('malformed request line');
  return { method: match[1]!, uri: match[2]! };
}

/** True if the start line is a response's (a server may also send requests, which the client ignores). */
export function isResponse(message: RtspMessage): boolean {
  return message.startLine.startsWith('RTSP/');
}
