import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import type { ByteSink } from '../../core/viewer.ts';
import { errorMessage, HelloError, parseHello, type Hello } from './hello.ts';

/** A client that has not said hello this long after the upgrade is closed. */
export const HELLO_TIMEOUT_MS = 5_000;
/** Messages (and pings) a client may send per second after its hello; more is a flood and ends the connection. */
export const MAX_CLIENT_MESSAGES_PER_SECOND = 20;
/** How long a polite close waits for the client's answer before the socket is dropped. */
const CLOSE_GRACE_MS = 2_000;

/** Why a session ended before it became a viewer, for /stat.json. */
export type SessionRefusal = 'helloTimeout' | 'badHello' | 'flood';

/**
 * Waits for a client's hello on a fresh WebSocket, then polices what it sends (nothing is expected after the hello:
 * a flood of messages or pings ends it). `onHello` gets the checked hello; `onRefused` says why a client was closed.
 */
export function awaitHello(ws: WebSocket, onHello: (hello: Hello) => void, onRefused: (why: SessionRefusal) => void): void {
  let hello: Hello | undefined;
  let windowStart = Date.now();
  let inWindow = 0;
  let refused = false;
  const refuse = (why: SessionRefusal, message: string, code: number): void => {
    if (refused) return;
    refused = true;
    onRefused(why);
    // The reason goes in the close frame too (at most 123 bytes), for clients that only see the close event.
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(errorMessage(message)));
    ws.close(code, message.slice(0, 120));
    setTimeout(() => ws.terminate(), CLOSE_GRACE_MS).unref();
  };
  const timer = setTimeout(() => refuse('helloTimeout', `no hello within ${HELLO_TIMEOUT_MS / 1000} s`, 1008), HELLO_TIMEOUT_MS);
  timer.unref();
  ws.once('close', () => clearTimeout(timer));
  // Bad frames from the client (too big, unmasked, bad UTF-8) close the connection with the right code: not our error.
  ws.on('error', () => {});
  const counted = (): boolean => {
    const now = Date.now();
    if (now - windowStart >= 1000) {
      windowStart = now;
      inWindow = 0;
    }
    if (refused) return false;
    if (++inWindow <= MAX_CLIENT_MESSAGES_PER_SECOND) return true;
    refuse('flood', `more than ${MAX_CLIENT_MESSAGES_PER_SECOND} messages a second`, 1008);
    return false;
  };
  ws.on('ping', counted);
  ws.on('message', (data, isBinary) => {
    if (!counted() || hello) return;
    clearTimeout(timer);
    try {
      if (isBinary) throw new HelloError('the hello is a text message (JSON), not binary', 1003);
      hello = parseHello(Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.concat(data as Buffer[]).toString('utf8'));
    } catch (error) {
      const refusal = error instanceof HelloError ? error : new HelloError('bad hello');
      refuse('badHello', refusal.message, refusal.code);
      return;
    }
    onHello(hello);
  });
}

/** The WebSocket's socket as a viewer's sink: frames are written as they are; a polite end sends a close frame. */
export function socketSink(ws: WebSocket, socket: Duplex): ByteSink {
  return {
    write: (chunk) => socket.write(chunk),
    get writableLength() {
      return socket.writableLength;
    },
    get destroyed() {
      return socket.destroyed;
    },
    destroy: () => socket.destroy(),
    end: () => {
      ws.close(1001, 'stream ended');
      setTimeout(() => socket.destroy(), CLOSE_GRACE_MS).unref();
    },
    once: (event: 'close' | 'error', listener: (error: Error) => void) => socket.once(event, listener),
  };
}
