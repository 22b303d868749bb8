import type { H264Track } from '../../../media/types.ts';

/**
 * The little protocol of /NAME.ws. The client speaks first, with one JSON text message:
 *   {"version": 1, "mode": "fmp4" | "raw", "codecs": ["avc1.64001f", ...]}
 * naming what it can decode (RFC 6381 strings or plain names such as "h264"). The relay answers
 *   {"type": "hello", "version": 1, "mode": ...}
 * and, once video exists and again whenever the encoder's parameters change,
 *   {"type": "config", "codec", "mime", "width", "height", "description" (base64 avcC)}
 * then binary messages: in fmp4 mode an init segment after each config, then one moof+mdat per frame; in raw mode
 * one access unit per message behind a 12-byte header (raw-unit.ts). Errors come as {"type": "error", "message"}
 * before the relay closes the connection.
 */

export const PROTOCOL_VERSION = 1;
export type WsMode = 'fmp4' | 'raw';

export interface Hello {
  readonly mode: WsMode;
  readonly codecs: readonly string[];
}

/** A hello the relay refuses; `message` is shown to the client, `code` is the WebSocket close code. */
export class HelloError extends Error {
  override readonly name = 'HelloError';
  constructor(
    message: string,
    readonly code = 1008,
  ) {
    super(message);
  }
}

/** Codecs a client may name; more than this is not a hello but a flood. */
const MAX_CODECS = 16;
const MAX_CODEC_LENGTH = 64;

/** Parses and checks a client's hello (its text, at most a few KB: the WebSocket server bounds the message). */
export function parseHello(text: string): Hello {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new HelloError('the hello is not JSON: send {"version":1,"mode":"fmp4"|"raw","codecs":["avc1.64001f"]}', 1007);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new HelloError('the hello is not a JSON object');
  const { version, mode, codecs } = value as Record<string, unknown>;
  if (version === undefined) throw new HelloError('the hello has no "version" (this relay speaks version 1)');
  if (version !== PROTOCOL_VERSION) throw new HelloError(`version ${JSON.stringify(version).slice(0, 20)} is not spoken here (this relay speaks version 1)`);
  if (mode !== 'fmp4' && mode !== 'raw') throw new HelloError('"mode" must be "fmp4" (Media Source Extensions) or "raw" (WebCodecs)');
  if (!Array.isArray(codecs) || codecs.length === 0) throw new HelloError('"codecs" must list the codecs the client decodes, e.g. ["avc1.64001f"]');
  if (codecs.length > MAX_CODECS || codecs.some((codec) => typeof codec !== 'string' || codec.length === 0 || codec.length > MAX_CODEC_LENGTH)) {
    throw new HelloError(`"codecs" must be at most ${MAX_CODECS} strings of at most ${MAX_CODEC_LENGTH} characters`);
  }
  return { mode, codecs: codecs as string[] };
}

/** True when the client names H.264 in any profile (the relay's encoder picks the profile; the config says which). */
export function acceptsH264(codecs: readonly string[]): boolean {
  return codecs.some((codec) => /^(avc1|avc3)(\.|$)/i.test(codec) || /^h\.?264$/i.test(codec));
}

export function helloReply(mode: WsMode): object {
  return { type: 'hello', version: PROTOCOL_VERSION, mode };
}

/** What a decoder needs to start on a track: for WebCodecs `codec` and `description`, for MSE `mime`. */
export function configMessage(track: H264Track): object {
  return {
    type: 'config',
    codec: track.codecString,
    mime: `video/mp4; codecs="${track.codecString}"`,
    width: track.width,
    height: track.height,
    description: track.avcC.toString('base64'),
  };
}

export function errorMessage(message: string): object {
  return { type: 'error', message };
}
