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
  /** Set for WebRTC viewers. */
  readonly webrtc?: WebRtcViewerFigures;
}

/** A WebRTC viewer's transport figures, for /stat.json's list of viewers. */
export interface WebRtcViewerFigures {
  /** Types of the selected ICE pair's candidates (host, srflx, prflx or relay): relay on either side means TURN. */
  readonly localCandidateType: string | null;
  readonly remoteCandidateType: string | null;
  /** The selected pair's transport: udp, or tcp for ICE-TCP. */
  readonly transport: 'udp' | 'tcp' | null;
  /** Round-trip time measured by the transport (ms), once known. */
  readonly rttMs: number | null;
  readonly packetsSent: number;
  /** Packets asked for again by NACKs (RFC 4585), and those the relay resent. */
  readonly nacks: number;
  readonly retransmitted: number;
  /** PLIs and FIRs received. */
  readonly keyframeRequests: number;
}
