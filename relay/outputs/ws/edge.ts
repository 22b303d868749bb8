import type { Duplex } from 'node:stream';
import type { Context } from 'koa';
import { createRequire } from 'node:module';
import type { WebSocket, WebSocketServer } from 'ws';
import type { Logger } from '../../../lib/log.ts';
import type { EdgeConsumer, EdgeStreamStats } from '../../core/edge.ts';
import type { Upgrade } from '../../http/protocol-hooks.ts';
import type { CameraMedia, ProtocolEnv, ProtocolMount, ProtocolServer } from '../registry.ts';
import { Viewer } from '../../core/viewer.ts';
import { viewerLimits, type StreamOutput } from '../output.ts';
import { jsonFrame } from './frame.ts';
import { acceptsH264, audioDescription, errorMessage, helloReply, type Hello } from './hello.ts';
import { RecentSound, type WsAudioSource } from './sound.ts';
import { originAllowed } from './origin.ts';
import { awaitHello, socketSink, type SessionRefusal } from './session.ts';
import { WsStream } from './stream.ts';

/** Largest message a client may send (its hello is a few hundred bytes); a bigger one closes the connection (1009). */
export const MAX_CLIENT_MESSAGE_BYTES = 4096;
const SWEEP_INTERVAL_MS = 1000;
const require = createRequire(import.meta.url);

/** The relay as the WebSocket edge sees it. */
export type WsRelay = Pick<ProtocolEnv, 'config' | 'output' | 'admit'>;

interface Mounted {
  readonly output: StreamOutput;
  readonly stream: WsStream;
  /** Upgraded clients that have not said hello yet: counted as viewers, so that admission sees them. */
  pending: number;
  readonly refused: Record<SessionRefusal | 'codec', number>;
}

/**
 * The relay's WebSocket edge: /NAME.ws for every Stream with `WebSocket yes`. The HTTP edge has authorised the
 * upgrade request (tokens, TrustProxy) before it gets here; this checks the origin and admission, completes the
 * handshake, waits for the client's hello and makes it a viewer of the stream's WsStream.
 */
export class WsEdge implements ProtocolServer {
  readonly protocol = 'ws';
  /** Made with the first upgrade: `ws` adds about 15 MiB to a relay, and most relays never get a WebSocket viewer. */
  private server: WebSocketServer | undefined;
  private readonly mounted = new Map<string, Mounted>();
  /** The camera of each output offered with sound, and its last seconds of sound. */
  private readonly sounds = new Map<StreamOutput, { readonly media: CameraMedia; readonly recent: RecentSound }>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly relay: WsRelay,
    private readonly log: Logger,
  ) {
    this.timer = setInterval(() => this.sweep(Date.now()), SWEEP_INTERVAL_MS);
    this.timer.unref();
  }

  /** The stream served at /NAME.ws, or undefined. */
  servedOutput(name: string): StreamOutput | undefined {
    const output = this.relay.output(name);
    return output?.config.webSocket && output.video ? output : undefined;
  }

  /** Takes an authorised upgrade request for /NAME.ws: refuses it with an HTTP status, or hands it to the ws server. */
  accept(ctx: Context, name: string, upgrade: Upgrade): void {
    const output = this.servedOutput(name);
    if (!output) return refuse(ctx, 404, `no WebSocket stream at ${ctx.path}`);
    if (!originAllowed(ctx.get('origin') || undefined, ctx.get('host'), this.relay.config().security.webSocketAllowedOrigins)) {
      return refuse(ctx, 403, 'this page\'s origin may not open the stream (WebSocketAllowedOrigins)');
    }
    const refusal = this.relay.admit(name);
    if (refusal) {
      ctx.set('Retry-After', '5');
      return refuse(ctx, 503, refusal.reason);
    }
    const mounted = this.streamFor(name, output);
    ctx.respond = false;
    // The ws server checks the handshake itself (version, key) and answers 400 to a bad one.
    this.server ??= webSocketServer();
    this.server.handleUpgrade(ctx.req, upgrade.socket, upgrade.head, (ws) => this.welcome(ws, upgrade.socket, mounted, ctx.ip || 'unknown'));
  }

  /**
   * Offers a stream with `WebSocket yes` (its WsStream is made on the first upgrade); the mount counts its viewers for
   * admission and /stat.json, and ends them when the stream goes.
   */
  mount(output: StreamOutput, media?: CameraMedia): ProtocolMount | undefined {
    const name = output.config.name;
    if (!output.config.webSocket || !output.video) return undefined;
    if (media && output.config.audio) this.sounds.set(output, { media, recent: new RecentSound(media.audio()) });
    return {
      stats: () => this.streamStats(name),
      consumers: (max) => this.consumers(name, max),
      // A stream removed or replaced by a reload ends its WebSocket viewers, as it ends its HTTP ones; only this
      // output's: a late unmount of a replaced output must not end the viewers of the one that took its name.
      unmount: () => {
        this.sounds.get(output)?.recent.close();
        this.sounds.delete(output);
        const mounted = this.mounted.get(name);
        if (mounted?.output !== output) return;
        const viewers = mounted.stream.viewerCount;
        mounted.stream.close();
        this.mounted.delete(name);
        if (viewers > 0) this.log.info(`${name}.ws: stream removed or changed, its ${viewers} WebSocket viewer(s) ended`);
      },
    };
  }

  streamStats(name: string): EdgeStreamStats | undefined {
    const mounted = this.mounted.get(name);
    if (!mounted) return undefined;
    const { fmp4, raw } = mounted.stream.fanouts;
    return {
      viewers: mounted.stream.viewerCount + mounted.pending,
      bytesOut: fmp4.counters.bytesOut + raw.counters.bytesOut,
      fmp4: fmp4.viewers.size,
      raw: raw.viewers.size,
      drops: fmp4.counters.drops + raw.counters.drops,
      viewersServed: fmp4.counters.viewersServed + raw.counters.viewersServed,
      slowDisconnects: fmp4.counters.slowDisconnects + raw.counters.slowDisconnects,
      ...mounted.refused,
    };
  }

  consumers(name: string, max: number): EdgeConsumer[] {
    const mounted = this.mounted.get(name);
    if (!mounted) return [];
    const viewers = [...mounted.stream.fanouts.raw.viewers, ...mounted.stream.fanouts.fmp4.viewers].slice(0, max);
    return viewers.map((viewer) => ({ handle: viewer, address: viewer.remoteAddress, since: viewer.since, bytesSent: viewer.bytesSent, drops: viewer.drops, protocol: 'ws' }));
  }

  /** Ends every WebSocket viewer and stops. Safe to call twice. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    for (const mounted of this.mounted.values()) mounted.stream.close();
    this.mounted.clear();
    for (const sound of this.sounds.values()) sound.recent.close();
    this.sounds.clear();
  }

  private streamFor(name: string, output: StreamOutput): Mounted {
    let mounted = this.mounted.get(name);
    if (mounted?.output === output) return mounted;
    mounted?.stream.close();
    const video = output.video!;
    const stream = new WsStream({ source: video, live: () => output.feed.state === 'live', frameRate: video.settings.frameRate, audio: this.soundOf(output) }, output.config.viewerWriteTimeoutMs);
    mounted = { output, stream, pending: 0, refused: { helloTimeout: 0, badHello: 0, flood: 0, codec: 0 } };
    this.mounted.set(name, mounted);
    return mounted;
  }

  /** The camera's AAC part for a stream with `Audio yes`; undefined for one without sound. */
  private soundOf(output: StreamOutput): WsAudioSource | undefined {
    const sound = this.sounds.get(output);
    if (!sound) return undefined;
    const { media, recent } = sound;
    const audio = media.audio();
    return {
      recent: () => recent.frames,
      get track() {
        return audio.track;
      },
      subscribe: (listener) => audio.subscribe(listener),
      cameraHasSound: () => media.feed.audioTrack !== undefined,
    };
  }

  private welcome(ws: WebSocket, socket: Duplex, mounted: Mounted, address: string): void {
    mounted.pending++;
    let counted = true;
    const settle = (): void => {
      if (counted) mounted.pending--;
      counted = false;
    };
    ws.once('close', settle);
    awaitHello(ws, (hello) => {
      settle();
      this.start(ws, socket, mounted, hello, address);
    }, (why) => {
      settle();
      mounted.refused[why]++;
    });
  }

  private start(ws: WebSocket, socket: Duplex, mounted: Mounted, hello: Hello, address: string): void {
    if (this.mounted.get(mounted.output.config.name) !== mounted || socket.destroyed) {
      ws.terminate();
      return;
    }
    if (!acceptsH264(hello.codecs)) {
      mounted.refused.codec++;
      const message = `this stream is H.264 (avc1); the client decodes only ${hello.codecs.join(', ').slice(0, 200)}`;
      socket.write(jsonFrame(errorMessage(message)));
      ws.close(1003, 'codec not offered: this stream is H.264');
      return;
    }
    const viewer = new Viewer(socketSink(ws, socket), viewerLimits(mounted.output.config), address, 'ws');
    // Asking for sound a stream does not have is no error: the answer says so, and the video comes alone.
    const sound = hello.audio ? mounted.stream.soundNow : undefined;
    const note = !hello.audio ? 'video only: the hello did not ask for sound (name mp4a.40.2 in "codecs")'
      : !mounted.output.config.audio ? 'video only: this stream carries no sound (Audio no)'
        : !sound ? 'no sound from the camera now: the config message says whether the video comes with sound' : undefined;
    viewer.sendRequired(jsonFrame(helloReply(hello.mode, sound && audioDescription(sound), note)));
    // A viewer that waits for a starting camera decides when it starts: the camera's sound may have come by then.
    mounted.stream.join(viewer, hello.mode, hello.audio);
  }

  private sweep(now: number): void {
    for (const mounted of this.mounted.values()) mounted.stream.sweep(now);
  }
}

function refuse(ctx: Context, status: number, message: string): void {
  ctx.status = status;
  ctx.type = 'text/plain';
  ctx.body = `${message}\n`;
}

function webSocketServer(): WebSocketServer {
  const { WebSocketServer: Server } = require('ws') as typeof import('ws');
  return new Server({ noServer: true, maxPayload: MAX_CLIENT_MESSAGE_BYTES, perMessageDeflate: false, clientTracking: false });
}
