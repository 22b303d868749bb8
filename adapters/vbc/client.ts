import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { CameraConfig } from '../../conf/types.ts';
import { isCompleteJpeg } from '../../media/jpeg/splitter.ts';
import { jpegUnit } from '../../media/types.ts';
import { AdapterError } from '../errors.ts';
import type { AdapterRegistration } from '../registry.ts';
import type { AdapterSink, CameraAdapter } from '../types.ts';
import {
  FRAME_REQUEST, REFERENCE_LIMITS, REFERENCE_SETUP, START_COMMAND, VBC_DEFAULT_PORT, VERSION_COMMAND, VideogramId,
  encodeImageSize, encodeVideogram, hex, loginCommands, printableText, takeTextReply, takeVideogram,
  type Videogram, type VideogramLimits,
} from './protocol.ts';
import { RateLimitedLog } from './rate-limited-log.ts';
import { SocketReader, deadlineIn } from './reader.ts';

/** Protocol details no document fixes; the defaults are the reference client's, tests and odd cameras may change them. */
export interface VbcTuning {
  /** Longest NUL-terminated text reply accepted in the text phase. */
  readonly textReplyMaxBytes: number;
  /** How long to wait for the reply to each setup message before sending the next (replies are ignored). */
  readonly setupReplyWaitMs: number;
  readonly limits: VideogramLimits;
  /** The messages sent after START, before the image size. */
  readonly setup: readonly Videogram[];
  /** At most one log line per kind of oddity per this many ms. */
  readonly logIntervalMs: number;
}

/** The reference client's behaviour. */
export const DEFAULT_VBC_TUNING: VbcTuning = {
  textReplyMaxBytes: 4096,
  setupReplyWaitMs: 100,
  limits: REFERENCE_LIMITS,
  setup: REFERENCE_SETUP,
  logIntervalMs: 10_000,
};

/** Where a `vbc://host[:port]` Source points. */
export interface VbcEndpoint {
  readonly host: string;
  readonly port: number;
}

/** Parses `vbc://host[:port]` (port 65310 when absent); throws with a message naming what is wrong. */
export function parseVbcUrl(source: string): VbcEndpoint {
  const url = new URL(source);
  if (url.protocol !== 'vbc:') throw new Error(`Canon source must start with vbc://, got ${url.protocol}//`);
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (!host) throw new Error('Canon source vbc:// needs a host');
  const port = url.port === '' ? VBC_DEFAULT_PORT : Number(url.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`Canon source port must be 1-65535, got "${url.port}"`);
  return { host, port };
}

/** What the camera sent besides frames, over every run of this adapter (for /stat and tests). */
export interface VbcCounters {
  /** Frame replies whose payload was not a whole JPEG (dropped). */
  notJpeg: number;
  /** Messages of ids other than the frame reply, outside setup (discarded). */
  otherMessages: number;
}

/** Pulls JPEG frames from a Canon VB-C10 family camera over its native protocol, one request at a time. */
export class VbcAdapter implements CameraAdapter {
  readonly kind = 'vbc';
  readonly endpoint: VbcEndpoint;
  readonly counters: VbcCounters = { notJpeg: 0, otherMessages: 0 };
  private readonly imageSizeMessage: Buffer | undefined;
  private readonly limits: VideogramLimits;

  constructor(
    private readonly camera: CameraConfig,
    private readonly tuning: VbcTuning = DEFAULT_VBC_TUNING,
  ) {
    this.endpoint = parseVbcUrl(camera.source);
    this.imageSizeMessage = camera.vbcImageSize ? encodeImageSize(camera.vbcImageSize) : undefined;
    this.limits = {
      maxFramePayload: Math.min(tuning.limits.maxFramePayload, camera.maxFrameBytes),
      maxOtherPayload: tuning.limits.maxOtherPayload,
    };
  }

  async run(sink: AdapterSink): Promise<void> {
    if (sink.signal.aborted) return;
    const connection = await this.connect(sink.signal);
    if (!connection) return;
    const { socket, reader } = connection;
    const closeOnAbort = (): void => {
      socket.destroy();
    };
    sink.signal.addEventListener('abort', closeOnAbort, { once: true });
    try {
      await this.textPhase(socket, reader, sink);
      await this.setupPhase(socket, reader);
      sink.onConnected();
      await this.pullFrames(socket, reader, sink);
    } catch (error) {
      if (sink.signal.aborted) return;
      if (error instanceof AdapterError) throw error;
      throw new AdapterError('PROTOCOL', `Canon camera: ${(error as Error).message}`, { cause: error });
    } finally {
      sink.signal.removeEventListener('abort', closeOnAbort);
      socket.destroy();
    }
  }

  /** Opens the TCP connection with its reader attached at once (so no socket error goes unheard); undefined if aborted. */
  private connect(signal: AbortSignal): Promise<{ socket: Socket; reader: SocketReader } | undefined> {
    const { host, port } = this.endpoint;
    return new Promise((resolve, reject) => {
      const socket = connect({ host, port });
      socket.setNoDelay(true);
      const timer = setTimeout(() => {
        finish();
        socket.destroy();
        reject(new AdapterError('TIMEOUT', `connect to ${host}:${port}: no answer within ${this.camera.connectTimeoutMs} ms`));
      }, this.camera.connectTimeoutMs);
      const onError = (error: NodeJS.ErrnoException): void => {
        finish();
        socket.destroy();
        reject(new AdapterError('CONNECT', `connect to ${host}:${port}: ${error.code ?? error.message}`));
      };
      const onAbort = (): void => {
        finish();
        socket.destroy();
        resolve(undefined);
      };
      const finish = (): void => {
        clearTimeout(timer);
        socket.off('error', onError);
        socket.off('connect', onConnect);
        signal.removeEventListener('abort', onAbort);
      };
      const onConnect = (): void => {
        finish();
        resolve({ socket, reader: new SocketReader(socket) });
      };
      socket.once('connect', onConnect);
      socket.once('error', onError);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** VERSION, then the login lines and one reply for them, then START. */
  private async textPhase(socket: Socket, reader: SocketReader, sink: AdapterSink): Promise<void> {
    const max = this.tuning.textReplyMaxBytes;
    const timeoutMs = this.camera.readTimeoutMs;
    socket.write(VERSION_COMMAND);
    const version = await reader.read((buffer) => takeTextReply(buffer, max), deadlineIn(timeoutMs, 'Canon VERSION reply'));
    sink.log(`Canon camera version: ${printableText(version)}`);
    socket.write(loginCommands(this.camera.vbcLogin));
    // The reference client reads a single reply for its three lines; so do we.
    await reader.read((buffer) => takeTextReply(buffer, max), deadlineIn(timeoutMs, 'Canon login reply'));
    socket.write(START_COMMAND);
  }

  /** Sends the setup messages and the image size, waiting briefly for each reply and ignoring it. */
  private async setupPhase(socket: Socket, reader: SocketReader): Promise<void> {
    const messages = this.tuning.setup.map((message) => encodeVideogram(message.id, message.payload));
    if (this.imageSizeMessage) messages.push(this.imageSizeMessage);
    for (const message of messages) {
      socket.write(message);
      try {
        await reader.read(
          (buffer) => takeVideogram(buffer, this.limits),
          deadlineIn(this.tuning.setupReplyWaitMs, 'Canon setup reply'),
        );
      } catch (error) {
        // The meaning of these replies is unknown and the reference client does not require them.
        if (!(error instanceof AdapterError && error.code === 'TIMEOUT')) throw error;
      }
    }
  }

  /** The frame loop: one outstanding request, paced from request to request at the configured rate. */
  private async pullFrames(socket: Socket, reader: SocketReader, sink: AdapterSink): Promise<void> {
    const fps = this.camera.inputFrameRate;
    const intervalMs = fps > 0 ? 1000 / fps : 0;
    const notes = new RateLimitedLog((message) => sink.log(message), this.tuning.logIntervalMs);
    let lastRequestAt = Number.NEGATIVE_INFINITY;
    for (;;) {
      const waitMs = lastRequestAt + intervalMs - performance.now();
      if (waitMs > 0) await sleep(waitMs, undefined, { signal: sink.signal });
      lastRequestAt = performance.now();
      socket.write(FRAME_REQUEST);
      const payload = await this.awaitFrameReply(reader, notes);
      if (!isCompleteJpeg(payload)) {
        this.counters.notJpeg++;
        notes.note('not-jpeg', `Canon camera sent a ${payload.length}-byte frame that is not a whole JPEG; dropped`);
        continue;
      }
      sink.onFrame(jpegUnit(payload, performance.now()));
    }
  }

  /** Reads until a frame reply arrives, discarding other messages; the whole wait is bounded by readTimeoutMs. */
  private async awaitFrameReply(reader: SocketReader, notes: RateLimitedLog): Promise<Buffer> {
    const deadline = deadlineIn(this.camera.readTimeoutMs, 'Canon frame request');
    for (;;) {
      const message = await reader.read((buffer) => takeVideogram(buffer, this.limits), deadline);
      if (message.id === VideogramId.frame) return message.payload;
      this.counters.otherMessages++;
      notes.note(
        `id-${message.id}`,
        `Canon camera sent message 0x${hex(message.id)} (${message.payload.length} bytes) while a frame was awaited; discarded`,
      );
    }
  }
}

/** Registration of the Canon native protocol under vbc://. */
export const vbcAdapter: AdapterRegistration = {
  schemes: ['vbc'],
  create: (camera) => new VbcAdapter(camera),
};
