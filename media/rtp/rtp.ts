import { ProtocolError } from '../errors.ts';

/** One RTP packet (RFC 3550), its payload a view into the packet's bytes. */
export interface RtpPacket {
  readonly payloadType: number;
  readonly sequence: number;
  readonly timestamp: number;
  readonly marker: boolean;
  readonly ssrc: number;
  readonly payload: Buffer;
}

/** Parses an RTP packet; throws ProtocolError if the header is malformed or overruns the packet. */
export function parseRtpPacket(packet: Buffer): RtpPacket {
  if (packet.length < 12) throw new ProtocolError('RTP: packet shorter than its header');
  const first = packet[0]!;
  if (first >> 6 !== 2) throw new ProtocolError('RTP: version is not 2');
  let offset = 12 + (first & 0x0f) * 4;
  if (first & 0x10) {
    if (packet.length < offset + 4) throw new ProtocolError('RTP: truncated header extension');
    offset += 4 + packet.readUInt16BE(offset + 2) * 4;
  }
  let end = packet.length;
  if (first & 0x20) end -= packet[packet.length - 1]!;
  if (offset > end) throw new ProtocolError('RTP: header or padding overruns the packet');
  return {
    payloadType: packet[1]! & 0x7f,
    marker: (packet[1]! & 0x80) !== 0,
    sequence: packet.readUInt16BE(2),
    timestamp: packet.readUInt32BE(4),
    ssrc: packet.readUInt32BE(8),
    payload: packet.subarray(offset, end),
  };
}

/** Signed distance from sequence number a to b, in the 16-bit circle. */
export function sequenceDelta(a: number, b: number): number {
  return ((b - a + 0x8000) & 0xffff) - 0x8000;
}

/** What the reorderer hands on: packets in sequence order, and a note wherever packets went missing. */
export type ReorderedItem = { readonly packet: RtpPacket } | { readonly lost: number };

/** What a receiver report says of one source (RFC 3550 6.4.1), as ReceptionStats counted it. */
export interface ReceptionBlock {
  readonly ssrc: number;
  /** Packets lost since the last report, in 256ths of those expected. */
  readonly fractionLost: number;
  /** Packets lost since the first, clamped to 24 signed bits. */
  readonly cumulativeLost: number;
  /** The highest sequence number received, with the count of its wraps in the upper 16 bits. */
  readonly extendedMax: number;
  /** Interarrival jitter in RTP timestamp units. */
  readonly jitter: number;
}

/**
 * The reception statistics of one RTP source (RFC 3550 appendix A.3 and A.8), counted as packets arrive, before they
 * are put in order, since they describe the network. A new SSRC starts them afresh.
 */
export class ReceptionStats {
  private sourceSsrc = 0;
  private started = false;
  private baseSequence = 0;
  private maxSequence = 0;
  private cycles = 0;
  private received = 0;
  private expectedPrior = 0;
  private receivedPrior = 0;
  private jitter = 0;
  private lastTransit: number | undefined;

  constructor(private readonly clockRate: number) {}

  /** Counts one arriving packet (`arrivalMs` on any monotonic clock). */
  count(packet: RtpPacket, arrivalMs: number): void {
    if (!this.started || packet.ssrc !== this.sourceSsrc) {
      this.started = true;
      this.sourceSsrc = packet.ssrc;
      this.baseSequence = this.maxSequence = packet.sequence;
      this.cycles = this.received = this.expectedPrior = this.receivedPrior = this.jitter = 0;
      this.lastTransit = undefined;
    }
    this.received++;
    const step = (packet.sequence - this.maxSequence) & 0xffff;
    if (step > 0 && step < 0x8000) {
      if (packet.sequence < this.maxSequence) this.cycles += 0x10000;
      this.maxSequence = packet.sequence;
    }
    const transit = (arrivalMs * this.clockRate) / 1000 - packet.timestamp;
    if (this.lastTransit !== undefined) {
      const difference = Math.abs(transit - this.lastTransit);
      this.jitter += (difference - this.jitter) / 16;
    }
    this.lastTransit = transit;
  }

  /** The figures of a report block, undefined before any packet; each call starts the next interval's loss count. */
  takeBlock(): ReceptionBlock | undefined {
    if (!this.started) return undefined;
    const extendedMax = this.cycles + this.maxSequence;
    const expected = extendedMax - this.baseSequence + 1;
    const cumulativeLost = Math.max(-0x800000, Math.min(0x7fffff, expected - this.received));
    const expectedInterval = expected - this.expectedPrior;
    const lostInterval = expectedInterval - (this.received - this.receivedPrior);
    this.expectedPrior = expected;
    this.receivedPrior = this.received;
    const fractionLost = expectedInterval <= 0 || lostInterval <= 0 ? 0 : Math.floor((lostInterval << 8) / expectedInterval);
    return { ssrc: this.sourceSsrc, fractionLost, cumulativeLost, extendedMax, jitter: Math.floor(this.jitter) };
  }
}

/**
 * Puts packets back in sequence order within a small window, drops duplicates and late arrivals, and reports gaps,
 * so the depacketizer can drop the one damaged frame. Holds at most `window` packets, none longer than `maxDelayMs`.
 * Given `reception`, it counts there every packet as it arrives, for receiver reports.
 */
export class RtpReorderer {
  private expected: number | undefined;
  private readonly held = new Map<number, { packet: RtpPacket; arrivedMs: number }>();
  duplicates = 0;
  lost = 0;

  constructor(
    private readonly window = 16,
    private readonly maxDelayMs = 200,
    readonly reception?: ReceptionStats,
  ) {}

  /** A reorderer of the usual window that counts every packet in `reception` as it arrives. */
  static counting(reception: ReceptionStats): RtpReorderer {
    return new RtpReorderer(undefined, undefined, reception);
  }

  /** Packets held while waiting for a missing one. */
  get heldPackets(): number {
    return this.held.size;
  }

  /** Takes one packet as it arrived (`nowMs` on any monotonic clock); returns what can now go on, in order. */
  push(packet: RtpPacket, nowMs = 0): ReorderedItem[] {
    this.reception?.count(packet, nowMs);
    if (this.expected === undefined) this.expected = packet.sequence;
    const delta = sequenceDelta(this.expected, packet.sequence);
    const jumped = Math.abs(delta) >= this.window * 4;
    if ((delta < 0 && !jumped) || this.held.has(packet.sequence)) {
      this.duplicates++; // a late arrival is as useless as a duplicate: its frame has gone
      return [];
    }
    const out: ReorderedItem[] = [];
    if (jumped) {
      // Far ahead: the sender restarted or jumped; give up on what is held and follow it.
      this.flushAll(out);
      this.expected = packet.sequence;
      this.reportGap(out, 1);
    }
    this.held.set(packet.sequence, { packet, arrivedMs: nowMs });
    this.drain(out);
    while (this.held.size > this.window || (this.held.size > 0 && nowMs - this.oldestArrival() > this.maxDelayMs)) {
      this.skipToNextHeld(out);
    }
    return out;
  }

  private oldestArrival(): number {
    let oldest = Infinity;
    for (const { arrivedMs } of this.held.values()) oldest = Math.min(oldest, arrivedMs);
    return oldest;
  }

  private drain(out: ReorderedItem[]): void {
    for (let next = this.held.get(this.expected!); next; next = this.held.get(this.expected!)) {
      this.held.delete(this.expected!);
      out.push({ packet: next.packet });
      this.expected = (this.expected! + 1) & 0xffff;
    }
  }

  /** The missing packet is not coming: move past the gap to the earliest held packet. */
  private skipToNextHeld(out: ReorderedItem[]): void {
    let nearest = Infinity;
    for (const sequence of this.held.keys()) nearest = Math.min(nearest, sequenceDelta(this.expected!, sequence));
    this.reportGap(out, nearest);
    this.expected = (this.expected! + nearest) & 0xffff;
    this.drain(out);
  }

  private flushAll(out: ReorderedItem[]): void {
    while (this.held.size > 0) this.skipToNextHeld(out);
  }

  private reportGap(out: ReorderedItem[], count: number): void {
    if (count <= 0) return;
    this.lost += count;
    out.push({ lost: count });
  }
}

/** Turns 32-bit RTP timestamps into milliseconds from the first packet, across wrap-around, never going backwards. */
export class RtpClock {
  private last: number | undefined;
  private extended = 0;
  private lastMs = 0;

  constructor(private readonly clockRate: number) {}

  toMs(timestamp: number): number {
    if (this.last !== undefined) this.extended += (timestamp - this.last) | 0; // signed 32-bit step
    this.last = timestamp;
    this.lastMs = Math.max(this.lastMs, (this.extended * 1000) / this.clockRate);
    return this.lastMs;
  }
}
