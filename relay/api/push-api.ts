import { isIP } from 'node:net';
import type Router from '@koa/router';
import type { Context } from 'koa';
import { PUSH_AUDIO_CODECS, PUSH_CODECS, type PushAudioCodec, type PushCodec } from '../../adapters/push/codecs.ts';
import { PushError, type PushAudioRequest, type PushGateway, type PushStreamInfo } from '../../adapters/push/gateway.ts';
import type { AccessControl } from '../auth/access.ts';
import type { PushSession } from '../../adapters/push/session.ts';
import type { Logger } from '../../lib/log.ts';
import { unmapIpv4 } from '../../lib/address.ts';
import type { RelayConfig, StreamConfig } from '../../conf/types.ts';
import { KeyThrottle } from './key-throttle.ts';
import { BodyError, readJsonObject } from '../http/json-body.ts';

/** What the publishers' gateway needs of the running relay: its config, the push hub, and whether a camera is idle. */
export interface PushApiRelay {
  readonly config: RelayConfig;
  readonly deps: { readonly log: Logger };
  readonly access: AccessControl;
  readonly push: PushGateway;
  readonly feeds: ReadonlyMap<string, { readonly state: string }>;
  startedStreams?(): readonly StreamConfig[];
}

/** Requests are a handful of short fields; anything bigger is not a publisher. */
const MAX_BODY_BYTES = 4096;
const BODY_TIMEOUT_MS = 10_000;
const MAX_DIMENSION = 16_384;
const MAX_FIELD_LENGTH = 512;

/** validate_stream's non-zero answers while a stream is not (yet) captured. */
const NOT_RECEIVED = 1;
const NOT_DECODABLE = 2;
const AWAITING_KEYFRAME = 3;
const ALL_REFUSED = 4;

/** Why a stream that was not stopped by its publisher is no longer captured, for validate_stream's 5002. */
const CAPTURE_FAILURES: Record<string, string> = {
  silent: 'the publisher went silent',
  protocol: 'the stream broke a limit or could not be parsed',
  closed: 'the camera stopped taking it: no frames within Timeout, or the relay is stopping or reloading',
};

/** A field as a non-empty string, or a refusal with `code`. */
function stringField(body: Record<string, unknown>, name: string, code: number): string {
  const value = body[name];
  if (value === undefined || value === null || value === '') throw new PushError(code, `missing arguments in request: no ${name} argument`);
  if (typeof value !== 'string' || value.length > MAX_FIELD_LENGTH) throw new PushError(code, `${name} must be a string of at most ${MAX_FIELD_LENGTH} characters`);
  return value;
}

function dimension(body: Record<string, unknown>, name: string): number {
  const value = body[name];
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_DIMENSION) {
    throw new PushError(4004, `missing a video stream descriptor: ${name} must be a whole number from 1 to ${MAX_DIMENSION}`);
  }
  return value;
}

/** The optional `codec` field (an extension: the original protocol sent VP8 only, which stays the default). */
function codecField(body: Record<string, unknown>): PushCodec {
  const value = body.codec ?? 'vp8';
  if (typeof value !== 'string' || !PUSH_CODECS.includes(value as PushCodec)) {
    throw new PushError(4151, `the codec of the stream is not supported (supported: ${PUSH_CODECS.join(', ')})`);
  }
  return value as PushCodec;
}

/** The optional `audio` field (and AAC's `audio_config`, its AudioSpecificConfig in hex): the sound sent beside the picture. */
function audioField(body: Record<string, unknown>): PushAudioRequest | undefined {
  const value = body.audio;
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || !PUSH_AUDIO_CODECS.includes(value as PushAudioCodec)) {
    throw new PushError(4151, `the audio codec of the stream is not supported (supported: ${PUSH_AUDIO_CODECS.join(', ')})`);
  }
  const config = body.audio_config;
  if (config === undefined || config === null) return { codec: value as PushAudioCodec };
  if (typeof config !== 'string' || config.length > 128 || !/^([0-9a-f]{2})+$/i.test(config)) throw new PushError(4151, 'audio_config must be the AudioSpecificConfig in hex');
  return { codec: value as PushAudioCodec, config: Buffer.from(config, 'hex') };
}

/** The host a publisher sends to: PublishAddress, else HTTPBindAddress, else (bound to a wildcard) where it reached us. */
function publishHost(ctx: Context, relay: PushApiRelay): string {
  const { publishAddress, httpBindAddress } = relay.config;
  const wildcard = httpBindAddress === '0.0.0.0' || httpBindAddress === '::';
  const host = publishAddress ?? (wildcard ? unmapIpv4(ctx.socket.localAddress ?? httpBindAddress) : httpBindAddress);
  return isIP(host) === 6 ? `[${host}]` : host;
}

/** Packets the stream refused and why, so a publisher whose packets go nowhere is told so rather than "captured". */
function refused(session: PushSession): { count: number; why: string } {
  const c = session.counters;
  const reasons: Array<[number, string]> = [
    [c.wrongSsrc, 'of another SSRC than the one start_stream assigned'],
    [c.foreign, 'from another address than the handshake\'s'],
    [c.malformed, 'malformed'],
  ];
  const given = reasons.filter(([count]) => count > 0);
  return { count: given.reduce((sum, [count]) => sum + count, 0), why: given.map(([count, why]) => `${count} ${why}`).join(', ') };
}

/** validate_stream's answer: 0 once the camera takes decodable frames, non-zero on the way, refusals for streams that failed. */
function validation(session: PushSession | undefined, camera: () => 'taking' | 'waiting-for-keyframe' | 'not-running' | 'idle') {
  if (!session) throw new PushError(4092, 'stream not running: start_stream first');
  const answer = (code: number, text: string) => {
    const refusedNow = refused(session);
    const note = refusedNow.count > 0 && code !== ALL_REFUSED ? `; ${refusedNow.count} packets refused (${refusedNow.why})` : '';
    return { validation_code: code, validation_txt: `${text}${note}`, refused_packets: refusedNow.count };
  };
  const { counters } = session;
  if (session.state === 'ended') {
    if (session.endReason === 'no-packets') throw new PushError(4081, 'stream not received before timeout');
    if (session.endReason === 'stopped') throw new PushError(4092, 'stream not running: it was stopped');
    if (session.endReason === 'operator') throw new PushError(4092, 'stream not running: an operator stopped it');
    throw new PushError(5002, `cannot capture the stream (${CAPTURE_FAILURES[session.endReason ?? 'closed']})`);
  }
  if (session.state === 'streaming') {
    const taken = camera();
    // Frames decode, but the camera is restarting after a failure and takes none: its status cannot go live yet.
    if (taken === 'not-running') throw new PushError(5004, 'cannot update the stream status: the camera is restarting and takes no frames yet; validate again');
    if (taken === 'idle') return answer(0, `stream captured: ${counters.frames} frames received; the camera is on demand and takes them while watched`);
    if (taken === 'waiting-for-keyframe') return answer(AWAITING_KEYFRAME, 'the camera waits for the next keyframe (requested)');
    return answer(0, `stream captured: ${counters.frames} frames received`);
  }
  if (counters.packets === 0 && counters.unsupported > 0) throw new PushError(4151, 'the codec of the stream is not supported (RTP payload type)');
  if (session.state === 'receiving') return answer(NOT_DECODABLE, `${counters.packets} packets received, no decodable ${session.codec} keyframe yet`);
  const refusedNow = refused(session);
  if (refusedNow.count > 0) {
    return answer(ALL_REFUSED, `no RTP packet taken: ${refusedNow.count} refused (${refusedNow.why}); send from the address of the handshake with the SSRC start_stream gave`);
  }
  return answer(NOT_RECEIVED, 'no RTP packets received yet');
}

/** get_data's `stream` set: how the relay receives the publisher's stream, for the publisher to check its link. */
function streamData(session: PushSession): Record<string, unknown> {
  const c = session.counters;
  return {
    state: session.state, end_reason: session.endReason ?? null, codec: session.codec, packets: c.packets, bytes: c.bytes, frames: c.frames,
    lost_packets: c.lost, dropped_frames: c.droppedFrames, keyframe_requests: c.keyframeRequests, foreign_packets: c.foreign,
    wrong_ssrc_packets: c.wrongSsrc, malformed_packets: c.malformed, unsupported_packets: c.unsupported, rtcp_in: c.rtcpIn, rtcp_out: c.rtcpOut,
    audio: session.audio ? { codec: session.audio.codec, ...session.audio.counters, synced_by_sender_reports: session.audio.synced } : null,
  };
}

/** list_streams' entry for one push camera's stream. */
function streamEntry(stream: PushStreamInfo): Record<string, unknown> {
  const c = stream.counters;
  return {
    camera: stream.camera, publisher: stream.publisher, codec: stream.codec, rtp_port: stream.rtpPort, state: stream.state,
    since: new Date(stream.since).toISOString(), packets: c.packets, frames: c.frames, lost_packets: c.lost, dropped_frames: c.droppedFrames,
  };
}

/**
 * `POST /api/source`: the source protocol of push publishers (JSON in and out): new_utilization_id, start_stream,
 * validate_stream, stop_stream, and get_data (the stream's reception counters). Operators, with the admin plane's
 * credentials in the Authorization header, may also list_streams and stop_stream by `camera`. Refusals answer
 * `{error_code, error_txt}` with the HTTP status of the code's first three digits. Keys are never logged; bad keys from
 * one address slow down its next requests.
 */
export function registerPushApi(router: Router, relay: PushApiRelay, log: Logger): void {
  const throttle = new KeyThrottle((address) => log.warn(`slowing down /api/source requests from ${address} after repeated bad keys`));

  const checkedKey = async (body: Record<string, unknown>, address: string): Promise<string> => {
    const key = stringField(body, 'key', 4002);
    await throttle.wait(address);
    if (relay.push.cameraForKey(key)) throttle.succeed(address);
    else throttle.fail(address);
    return key;
  };

  /** The admin plane's credentials, for the operator's actions: missing 4006, wrong 4053. */
  const checkedAdmin = async (ctx: Context): Promise<void> => {
    const check = await relay.access.checkAdmin(ctx.get('authorization') || undefined, ctx.ip);
    if (check === 'missing') throw new PushError(4006, 'missing admin credentials: this action needs the Authorization header of an AdminUser or AdminToken');
    if (check === 'wrong') throw new PushError(4053, 'invalid administrator credentials');
    if (check === 'busy') throw new PushError(4290, 'too many credential checks at once: try again shortly');
  };

  router.post('/api/source', async (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    // The publisher's own address (X-Forwarded-For behind a TrustProxy, as the HTTP edge resolved it): its bad keys slow
    // only it down, and its RTP, which comes straight from it and not through the proxy, is expected from there.
    const address = ctx.ip;
    try {
      let body: Record<string, unknown>;
      try {
        body = await readJsonObject(ctx.req, MAX_BODY_BYTES, BODY_TIMEOUT_MS);
      } catch (error) {
        if (!(error instanceof BodyError)) throw error;
        ctx.set('Connection', 'close');
        throw new PushError(4006, `missing request arguments: ${error.message}`);
      }
      const action = body.action;
      if (action === undefined || action === null || action === '') throw new PushError(4001, 'missing arguments in request: no action argument');
      if (typeof action !== 'string') throw new PushError(4001, 'action must be a string');
      if (action === 'new_utilization_id') {
        const key = await checkedKey(body, address);
        ctx.body = { utilization_id: relay.push.newUtilization(key) };
      } else if (action === 'start_stream') {
        const key = await checkedKey(body, address);
        const id = stringField(body, 'utilization_id', 4003);
        dimension(body, 'width');
        dimension(body, 'height');
        const codec = codecField(body);
        const { rtpPort, rtcpPort, ssrc, audio } = await relay.push.startStream(key, id, address, codec, audioField(body));
        const host = publishHost(ctx, relay);
        const sound = audio ? { audio_url: `rtp://${host}:${audio.rtpPort}`, audio_rtp_port: audio.rtpPort, audio_rtcp_port: audio.rtcpPort, audio_ssrc: audio.ssrc } : {};
        ctx.body = { url: `rtp://${host}:${rtpPort}`, rtp_port: rtpPort, rtcp_port: rtcpPort, ssrc, ...sound };
      } else if (action === 'validate_stream') {
        const id = stringField(body, 'utilization_id', 4003);
        ctx.body = validation(relay.push.sessionOf(id), () => {
          const { camera, taking } = relay.push.cameraTaking(id);
          return taking === 'not-running' && relay.feeds.get(camera)?.state === 'idle' ? 'idle' : taking;
        });
      } else if (action === 'get_data') {
        const session = relay.push.sessionOf(stringField(body, 'utilization_id', 4003));
        const data = stringField(body, 'data', 4005);
        if (data !== 'stream') throw new PushError(5003, `cannot process 'get_data': no data named "${data.slice(0, 40).replace(/[^\x20-\x7e]/g, '?')}" (known: stream)`);
        if (!session) throw new PushError(4092, 'stream not running: start_stream first');
        ctx.body = { data: streamData(session) };
      } else if (action === 'stop_stream') {
        if (body.utilization_id === undefined && body.camera !== undefined) {
          await checkedAdmin(ctx);
          relay.push.stopCameraStream(stringField(body, 'camera', 4003));
        } else {
          relay.push.stopStream(stringField(body, 'utilization_id', 4003));
        }
        ctx.body = { ok: 'stream stopped successfully' };
      } else if (action === 'list_streams') {
        await checkedAdmin(ctx);
        ctx.body = { streams: relay.push.streams().map(streamEntry) };
      } else {
        throw new PushError(5011, `not implemented: unknown action "${action.slice(0, 40).replace(/[^\x20-\x7e]/g, '?')}"`);
      }
    } catch (error) {
      if (!(error instanceof PushError)) throw error;
      ctx.status = Math.floor(error.code / 10);
      ctx.body = { error_code: error.code, error_txt: error.message };
    }
  });
}
