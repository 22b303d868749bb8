import type { RelayConfig, StreamConfig } from '../../conf/types.ts';

/** What admission needs of a served stream: its limits and how many watch it over HTTP now. */
export interface AdmittedStream {
  readonly config: StreamConfig;
  readonly viewerCount: number;
}

/**
 * Why a viewer was refused; the HTTP edge answers 503 with this text before any stream byte. `scope` says which limit
 * (the RTSP edge answers 453 for a full stream or bandwidth, 503 for a full server).
 */
export type Refusal = { readonly reason: string; readonly scope?: 'stream' | 'server' | 'bandwidth' };

export interface AdmissionCounters {
  refused: number;
  refusedByStream: Map<string, number>;
}

/** ffserver's admission rules: global and per-stream MaxClients, global MaxBandwidth from each stream's bit rate. */
export class Admission {
  readonly counters: AdmissionCounters = { refused: 0, refusedByStream: new Map() };

  constructor(
    private readonly config: RelayConfig,
    private readonly outputs: () => Iterable<AdmittedStream>,
    /** Consumers of a stream on edges other than HTTP (RTSP readers), counted against the same limits. */
    private readonly edgeViewers: (stream: string) => number = () => 0,
  ) {}

  /** kbit/s a viewer of this stream is expected to take. */
  static estimatedKbps(output: AdmittedStream): number {
    return output.config.videoBitRate;
  }

  /** Total viewers now and the bandwidth they are estimated to take. */
  usage(): { viewers: number; kbps: number } {
    let viewers = 0;
    let kbps = 0;
    for (const output of this.outputs()) {
      const count = output.viewerCount + this.edgeViewers(output.config.name);
      viewers += count;
      kbps += count * Admission.estimatedKbps(output);
    }
    return { viewers, kbps };
  }

  /** Returns a refusal, or undefined when the viewer may be served. */
  check(output: AdmittedStream): Refusal | undefined {
    const refusal = this.evaluate(output);
    if (refusal) {
      this.counters.refused++;
      const name = output.config.name;
      this.counters.refusedByStream.set(name, (this.counters.refusedByStream.get(name) ?? 0) + 1);
    }
    return refusal;
  }

  private evaluate(output: AdmittedStream): Refusal | undefined {
    const { maxClients } = output.config;
    const streamViewers = output.viewerCount + this.edgeViewers(output.config.name);
    if (maxClients > 0 && streamViewers >= maxClients) return { reason: `stream ${output.config.name} is full (${maxClients} viewers)`, scope: 'stream' };
    const { viewers, kbps } = this.usage();
    if (this.config.maxClients > 0 && viewers >= this.config.maxClients) return { reason: `server is full (${this.config.maxClients} viewers)`, scope: 'server' };
    const wanted = kbps + Admission.estimatedKbps(output);
    if (this.config.maxBandwidth > 0 && wanted > this.config.maxBandwidth) {
      return { reason: `bandwidth limit reached (${this.config.maxBandwidth} kbit/s)`, scope: 'bandwidth' };
    }
    return undefined;
  }
}
