/** One stream's consumers on an edge other than HTTP, for admission and /stat.json. */
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

/**
 * An edge that serves the relay's streams beside HTTP (the RTSP server). The Relay keeps a set of them so that
 * admission counts their consumers and status shows them, without knowing their protocols.
 */
export interface ConsumerEdge {
  readonly protocol: string;
  /** Stats of one stream on this edge, or undefined when the edge does not serve it. */
  streamStats(stream: string): EdgeStreamStats | undefined;
  /** Up to `max` of the stream's consumers on this edge. */
  consumers(stream: string, max: number): EdgeConsumer[];
}

/** Consumers of `stream` on every edge. */
export function edgeViewers(edges: Iterable<ConsumerEdge>, stream: string): number {
  let viewers = 0;
  for (const edge of edges) viewers += edge.streamStats(stream)?.viewers ?? 0;
  return viewers;
}

/** A stream's figures by protocol, for the edges that serve it. */
export function edgeStats(edges: Iterable<ConsumerEdge>, stream: string): Record<string, EdgeStreamStats> {
  const byProtocol: Record<string, EdgeStreamStats> = {};
  for (const edge of edges) {
    const stats = edge.streamStats(stream);
    if (stats) byProtocol[edge.protocol] = stats;
  }
  return byProtocol;
}

/** Up to `max` consumers of `stream` over every edge. */
export function edgeConsumers(edges: Iterable<ConsumerEdge>, stream: string, max: number): EdgeConsumer[] {
  const out: EdgeConsumer[] = [];
  for (const edge of edges) {
    if (out.length >= max) break;
    out.push(...edge.consumers(stream, max - out.length));
  }
  return out;
}
