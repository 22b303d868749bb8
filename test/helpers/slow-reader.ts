import { connect } from 'node:net';

/** What a slow raw-TCP reader got for one GET, and whether its connection still answered a second request. */
export interface SlowRead {
  status: number;
  /** Content-Length, or undefined for a chunked body. */
  contentLength: number | undefined;
  body: Buffer;
  /** The status line of a second request sent on the same connection after the body, or the error/close instead. */
  second: string;
}

/**
 * GETs `path` over a raw TCP connection, reads `firstBytes`, pauses `pauseMs` (longer than the server's keep-alive
 * timeout) without reading, then reads the rest; once the body is whole and the pause over it asks for `path` again on
 * the same connection (HEAD) to see whether the server kept it open. Bounded by `timeoutMs`.
 */
export function slowRead(port: number, path: string, options: { firstBytes?: number; pauseMs?: number; timeoutMs?: number } = {}): Promise<SlowRead> {
  const { firstBytes = 8 * 1024, pauseMs = 7_500, timeoutMs = 40_000 } = options;
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let received = Buffer.alloc(0);
    let paused = false;
    let resumed = false;
    let head: { status: number; contentLength: number | undefined; bodyStart: number } | undefined;
    let result: SlowRead | undefined;
    const timer = setTimeout(() => finish(new Error(`no whole answer within ${timeoutMs} ms (${received.length} bytes)`)), timeoutMs);
    const finish = (error?: Error): void => {
      clearTimeout(timer);
      socket.destroy();
      if (result) resolve(result);
      else reject(error ?? new Error(`connection closed after ${received.length} bytes`));
    };
    socket.on('error', (error) => {
      if (result) result.second ||= `error ${(error as NodeJS.ErrnoException).code}`;
      finish(error);
    });
    socket.on('close', () => {
      if (result) result.second ||= 'closed';
      finish();
    });
    const askAgain = (): void => void socket.write(`HEAD ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
    socket.on('connect', () => socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`));
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (result) {
        const line = received.toString('latin1').split('\r\n')[0]!;
        if (received.includes('\r\n\r\n')) {
          result.second = line;
          finish();
        }
        return;
      }
      if (!paused && received.length >= firstBytes) {
        paused = true;
        socket.pause();
        setTimeout(() => {
          resumed = true;
          socket.resume();
          if (result) askAgain();
        }, pauseMs);
      }
      if (!head) {
        const end = received.indexOf('\r\n\r\n');
        if (end < 0) return;
        const text = received.subarray(0, end).toString('latin1');
        const length = /\r\ncontent-length: *(\d+)/i.exec(text);
        if (!length && !/\r\ntransfer-encoding: *chunked/i.test(text)) return finish(new Error(`neither Content-Length nor chunked in ${text}`));
        head = { status: Number(text.split(' ')[1]), contentLength: length ? Number(length[1]) : undefined, bodyStart: end + 4 };
      }
      const whole = head.contentLength === undefined ? dechunk(received, head.bodyStart) : received.length - head.bodyStart >= head.contentLength ? { body: received.subarray(head.bodyStart, head.bodyStart + head.contentLength), end: head.bodyStart + head.contentLength } : undefined;
      if (!whole) return;
      result = { status: head.status, contentLength: head.contentLength, body: whole.body, second: '' };
      received = received.subarray(whole.end);
      // A body that arrived whole before the pause is asked again after it, as a client that read it late would.
      if (resumed) askAgain();
    });
  });
}

/** The body of a whole chunked message starting at `from`, and where it ends; undefined while the last chunk has not arrived. */
function dechunk(data: Buffer, from: number): { body: Buffer; end: number } | undefined {
  const parts: Buffer[] = [];
  let at = from;
  for (;;) {
    const lineEnd = data.indexOf('\r\n', at);
    if (lineEnd < 0) return undefined;
    const size = parseInt(data.subarray(at, lineEnd).toString('latin1'), 16);
    const next = lineEnd + 2 + size + 2;
    if (data.length < next) return undefined;
    if (size === 0) return { body: Buffer.concat(parts), end: next };
    parts.push(data.subarray(lineEnd + 2, lineEnd + 2 + size));
    at = next;
  }
}
