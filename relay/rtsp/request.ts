import { parseRequestLine, type RtspHeaders, type RtspMessage } from '../../media/rtsp/message.ts';

/** A parsed RTSP request as the method handlers see it. */
export interface RtspRequest {
  readonly method: string;
  readonly uri: string;
  readonly headers: RtspHeaders;
  readonly cseq: string;
}

/** Why a message is not a request the server can answer; `fatal` ones close the connection. */
export interface RequestProblem {
  readonly problem: string;
  readonly fatal: boolean;
}

/**
 * Reads a request out of a parsed RTSP message (the demuxer has already bounded its size and header count). A
 * malformed request line is fatal (the byte stream cannot be trusted); a missing CSeq is answered and survived.
 */
export function readRequest(message: RtspMessage): RtspRequest | RequestProblem {
  let line;
  try {
    line = parseRequestLine(message.startLine);
  } catch {
    return { problem: 'malformed request line', fatal: true };
  }
  const cseq = message.headers.get('CSeq');
  if (cseq === undefined || !/^\d{1,9}$/.test(cseq)) return { problem: 'missing or malformed CSeq', fatal: false };
  return { method: line.method, uri: line.uri, headers: message.headers, cseq };
}

/**
 * The session id a request names, if any ("id;timeout=..." from a client echoing the header whole). An id with
 * characters no session id has (a stray CR survives header splitting) comes back as '', which names no session.
 */
export function sessionIdOf(request: RtspRequest): string | undefined {
  const header = request.headers.get('Session');
  if (header === undefined) return undefined;
  const id = header.split(';')[0]!.trim();
  return /^[\w$\-.+]{1,128}$/.test(id) ? id : '';
}
