/** One stream's consumers on a protocol server beside HTTP (its RTSP mount), for admission and /stat.json. */
export interface EdgeStreamStats {
  readonly viewers: number;
  readonly bytesOut: number;
  /** Edge-specific figures (RTSP: readers by transport, JPEGs skipped). */
  readonly [figure: string]: number;
}

/** One consumer on an edge beside HTTP, for the status page's list of viewers. */
export interface EdgeConsumer {
  /** The same object while the consumer lives: tells rows apart and keys its rate. */
  readonly handle: object;
  readonly address: string;
  readonly since: number;
  readonly bytesSent: number;
  readonly drops: number;
  /** How it is served, e.g. `rtsp/tcp`. */
  readonly protocol: string;
}
