import type { RelayConfig, StreamConfig, StreamFormat } from '../../conf/types.ts';
import type { Logger } from '../../lib/log.ts';
import type { Refusal } from '../core/admission.ts';
import type { Feed } from '../core/feed.ts';
import type { EdgeConsumer, EdgeStreamStats } from '../core/edge.ts';
import type { EncoderSettings } from '../encoders/ffmpeg-args.ts';
import type { JpegView } from '../encoders/jpeg-view.ts';
import type { AacAudio } from '../encoders/aac-audio.ts';
import type { OpusAudio } from '../encoders/opus-audio.ts';
import type { SharedEncoder } from '../encoders/shared-encoder.ts';
import type { HttpHooks } from '../http/protocol-hooks.ts';
import type { AccessHost } from '../auth/access.ts';
import type { StreamOutput } from './output.ts';

/** What an output may take from its camera; held for the stream and let go when it is unmounted. */
export interface CameraMedia {
  readonly feed: Feed;
  /** The camera's shared encoder at `settings` (one per distinct setting, however many streams use it). */
  encoder(settings: EncoderSettings): SharedEncoder;
  /** The camera as JPEGs: its own, or decoded once from its video while a JPEG consumer watches. */
  jpegView(): JpegView;
  /** The camera's sound as AAC (one per camera, copied or converted), for streams with `Audio yes`. */
  audio(): AacAudio;
  /** The camera's sound as Opus (one per camera; its converter runs while anyone listens), for WebRTC. */
  opus(): OpusAudio;
}

/** One stream served by a protocol beside its own format (an RTSP mount), as admission and status count it. */
export interface ProtocolMount {
  /** Undefined while the protocol has served the stream to nobody yet (WebSocket and WebRTC start on the first viewer). */
  stats(): EdgeStreamStats | undefined;
  /** Up to `max` of its consumers, for the status page's list of viewers. */
  consumers(max: number): EdgeConsumer[];
  /** Ends its consumers and stops offering the stream. Safe to call twice. */
  unmount(): void;
}

/** A running server of an output protocol beside the HTTP streams (RTSP, WebSocket, WebRTC). */
export interface ProtocolServer {
  readonly protocol: string;
  /** Starts offering a stream; undefined when the stream does not ask for this protocol or it cannot carry it. */
  mount(output: StreamOutput, media: CameraMedia): ProtocolMount | undefined;
  /** Stops the server and its consumers. Safe to call twice. */
  close(): Promise<void>;
}

/** What a protocol server may use from the running relay. */
export interface ProtocolEnv {
  /** The config in force (it changes on reload). */
  config(): RelayConfig;
  log: Logger;
  /** Whether one more consumer of the stream fits MaxClients and MaxBandwidth; undefined when it does (or no such stream). */
  admit(stream: string): Refusal | undefined;
  /** The stream served at /NAME now (a reload may replace it), or undefined. */
  output(name: string): StreamOutput | undefined;
  /** Routes and upgrade handlers of the protocol on the HTTP edge, behind its access gate (WHEP, WebSocket). */
  readonly http: HttpHooks;
  /** The relay as access control sees it: viewer tokens, passwords and started streams are checked against it. */
  readonly access: AccessHost;
}

/**
 * An output protocol: the Stream `Format` values it serves at /NAME (ffserver's `Format X`) with the output it builds
 * for them, and/or a server of its own beside HTTP that offers streams (RTSP). A new protocol is a folder with one
 * such entry, listed once in relay/app/output-protocols.ts.
 */
export interface OutputProtocol {
  readonly name: string;
  /** The Format values this entry serves at /NAME; none for a protocol that only serves beside HTTP. */
  readonly formats: readonly StreamFormat[];
  /** Builds the output of a Stream of one of `formats`. */
  mount?(stream: StreamConfig, media: CameraMedia): StreamOutput;
  /** Starts the protocol's own server when the config asks for it; undefined when it is off. */
  start?(env: ProtocolEnv): Promise<ProtocolServer | undefined>;
}

/** The output protocols by Format, built once from an explicit list. */
export class OutputRegistry {
  private readonly byFormat = new Map<string, OutputProtocol>();

  constructor(readonly protocols: readonly OutputProtocol[]) {
    for (const protocol of protocols) {
      if (protocols.filter((other) => other.name === protocol.name).length > 1) throw new Error(`two output protocols are named ${protocol.name}`);
      for (const format of protocol.formats) {
        if (this.byFormat.has(format)) throw new Error(`two output protocols claim Format ${format}`);
        if (!protocol.mount) throw new Error(`output protocol ${protocol.name} claims Format ${format} but builds no output`);
        this.byFormat.set(format, protocol);
      }
    }
  }

  get formats(): string[] {
    return [...this.byFormat.keys()];
  }

  /** Builds the output of a Stream; a format no entry serves is a clear error naming the stream. */
  mount(stream: StreamConfig, media: CameraMedia): StreamOutput {
    const protocol = this.byFormat.get(stream.format);
    if (!protocol?.mount) throw new Error(`stream ${stream.name}: no output serves Format ${stream.format} (known: ${this.formats.join(', ')})`);
    return protocol.mount(stream, media);
  }

  /** Starts the servers of the protocols that have one (each decides from the config whether it runs). */
  async startServers(env: ProtocolEnv): Promise<ProtocolServer[]> {
    const servers: ProtocolServer[] = [];
    try {
      for (const protocol of this.protocols) {
        const server = await protocol.start?.(env);
        if (server) servers.push(server);
      }
    } catch (error) {
      // One that cannot start (its port taken) leaves none of the others running.
      await Promise.all(servers.map((server) => server.close()));
      throw error;
    }
    return servers;
  }
}
