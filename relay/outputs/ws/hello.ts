import type { AudioTrack, H264Track } from '../../../media/types.ts';

/**
 * The little protocol of /NAME.ws. The client speaks first, with one JSON text message:
 *   {"version": 1, "mode": "fmp4" | "raw", "codecs": ["avc1.64001f", "mp4a.40.2", ...], "audio"?: boolean}
 * naming what it can decode (RFC 6381 strings or plain names such as "h264"); it gets the stream's sound (AAC) when
 * it names mp4a (or aac) and does not say "audio": false. The relay answers
 *   {"type": "hello", "version": 1, "mode": ..., "audio": {codec, description, sampleRate, channels} | null, "audioNote"?}
 * ("audio" is the camera's sound as known now; null with a note saying why there is none for this client), and,
 * once video exists and again whenever the encoder's or the sound's parameters change,
 *   {"type": "config", "codec", "mime", "width", "height", "description" (base64 avcC), "audio": {...} | null}
 * whose "audio" says what the media that follows carries (decoders configure from it). Then binary messages: in fmp4
 * mode an init segment after each config (with an AAC track when "audio" is set), then one moof+mdat per video frame
 * and per audio frame, in time order; in raw mode one access unit or audio frame per message behind a 12-byte header
 * (raw-unit.ts). Errors come as {"type": "error", "message"} before the relay closes the connection.
 */

export const PROTOCOL_VERSION = 1;
export type WsMode = 'fmp4' | 'raw';

export interface Hello {
  readonly mode: WsMode;
  readonly codecs: readonly string[];
  /** The client wants the stream's sound (it names AAC and did not say "audio": false). */
  readonly audio: boolean;
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
  const { version, mode, codecs, audio } = value as Record<string, unknown>;
  if (version === undefined) throw new HelloError('the hello has no "version" (this relay speaks version 1)');
  if (version !== PROTOCOL_VERSION) throw new HelloError(`version ${JSON.stringify(version).slice(0, 20)} is not spoken here (this relay speaks version 1)`);
  if (mode !== 'fmp4' && mode !== 'raw') throw new HelloError('"mode" must be "fmp4" (Media Source Extensions) or "raw" (WebCodecs)');
  if (!Array.isArray(codecs) || codecs.length === 0) throw new HelloError('"codecs" must list the codecs the client decodes, e.g. ["avc1.64001f"]');
  if (codecs.length > MAX_CODECS || codecs.some((codec) => typeof codec !== 'string' || codec.length === 0 || codec.length > MAX_CODEC_LENGTH)) {
    throw new HelloError(`"codecs" must be at most ${MAX_CODECS} strings of at most ${MAX_CODEC_LENGTH} characters`);
  }
  if (audio !== undefined && typeof audio !== 'boolean') throw new HelloError('"audio" must be true or false when given');
  const names = codecs as string[];
  return { mode, codecs: names, audio: audio !== false && names.some((codec) => /^mp4a(\.|$)/i.test(codec) || /^aac$/i.test(codec)) };
}

/** True when the client names H.264 in any profile (the relay's encoder picks the profile; the config says which). */
export function acceptsH264(codecs: readonly string[]): boolean {
  return codecs.some((codec) => /^(avc1|avc3)(\.|$)/i.test(codec) || /^h\.?264$/i.test(codec));
}

/** What a WebCodecs AudioDecoder needs for an AAC track: its RFC 6381 codec, the AudioSpecificConfig, rate and channels. */
export interface AudioDescription {
  readonly codec: string;
  readonly description: string;
  readonly sampleRate: number;
  readonly channels: number;
}

/** The AAC track as a client configures a decoder with it; the object type (LC 2, HE 5) is read from its ASC. */
export function audioDescription(track: AudioTrack & { readonly config: Buffer }): AudioDescription {
  return { codec: `mp4a.40.${track.config[0]! >> 3}`, description: track.config.toString('base64'), sampleRate: track.sampleRate, channels: track.channels };
}

/** The answer to a hello: `audio` the sound this client will get (null and a note saying why when none). */
export function helloReply(mode: WsMode, audio: AudioDescription | undefined, audioNote?: string): object {
  return { type: 'hello', version: PROTOCOL_VERSION, mode, audio: audio ?? null, ...(audioNote ? { audioNote } : {}) };
}

/** What a decoder needs to start on the tracks: for WebCodecs `codec`, `description` and `audio`, for MSE `mime`. */
export function configMessage(track: H264Track, audio?: AudioTrack & { readonly config: Buffer }): object {
  const sound = audio ? audioDescription(audio) : undefined;
  return {
    type: 'config',
    codec: track.codecString,
    mime: `video/mp4; codecs="${track.codecString}${sound ? `,${sound.codec}` : ''}"`,
    width: track.width,
    height: track.height,
    description: track.avcC.toString('base64'),
    audio: sound ?? null,
  };
}

export function errorMessage(message: string): object {
  return { type: 'error', message };
}
