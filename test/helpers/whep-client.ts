import { toAnnexB } from '../../media/h264/annexb.ts';
import { PeerConnection, Video, type Track } from 'node-datachannel';
import { H264Depacketizer, type H264AccessUnit } from '../../media/rtp/h264-depacketizer.ts';
import { findSenderReport, ReceiverReporter } from '../../media/rtp/rtcp.ts';
import { isRtcp } from '../../media/rtp/rtcp-feedback.ts';
import { parseRtpPacket, RtpReorderer, sequenceDelta, type RtpPacket } from '../../media/rtp/rtp.ts';
import { unwrapRtxPacket } from '../../media/rtp/rtx.ts';

/** The H.264 formats Chromium offers (profile-level-id, payload type, its RTX), so the relay chooses among real choices. */
const OFFERED_H264 = [
  { payloadType: 102, profile: '42001f', rtx: 103 },
  { payloadType: 106, profile: '42e01f', rtx: 107 },
  { payloadType: 112, profile: '64001f', rtx: 113 },
  { payloadType: 127, profile: '4d001f', rtx: 125 },
];

/** How a test viewer behaves beyond receiving: offer RTX as Chromium does, lose packets on purpose and ask for them. */
export interface WhepClientOptions {
  /** Offer RTX (RFC 4588) for every H.264 format, and read retransmissions from it. */
  readonly rtx?: boolean;
  /** Drop every n-th video packet as it arrives (after SRTP, so the transport has seen its number), up to `maxDrops`. */
  readonly dropEvery?: number;
  readonly maxDrops?: number;
}

/**
 * Ends a test process that used WebRTC once its results are out: node-datachannel holds the event loop for every track
 * that never opened (the relay's CLI exits explicitly for the same reason), and its cleanup() crashes on tracks already
 * collected. Call it at the end of a test file: `t.teardown(endWebRtc)`.
 */
export function endWebRtc(): void {
  setTimeout(() => process.exit(process.exitCode), 500).unref();
}

/** An HTTP answer from the WHEP endpoint. */
export interface WhepAnswer {
  readonly status: number;
  readonly headers: Headers;
  readonly body: string;
}

/** Sends one WHEP request (POST an offer, PATCH candidates, DELETE, OPTIONS) and reads the whole answer. */
export async function whepRequest(url: string, method: string, body?: string, contentType = 'application/sdp', headers: Record<string, string> = {}): Promise<WhepAnswer> {
  const response = await fetch(url, { method, body, headers: body === undefined ? headers : { 'Content-Type': contentType, ...headers } });
  return { status: response.status, headers: response.headers, body: await response.text() };
}

/** A real offer from libdatachannel (ICE credentials, fingerprint, host candidates on 127.0.0.1), for hostile variants. */
export async function makeOffer(): Promise<{ sdp: string; close(): void }> {
  const peer = new PeerConnection('whep-offer', { iceServers: [], bindAddress: '127.0.0.1' });
  const video = new Video('0', 'RecvOnly');
  for (const { payloadType, profile } of OFFERED_H264) video.addH264Codec(payloadType, `level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=${profile}`);
  peer.addTrack(video);
  peer.setLocalDescription();
  await gathered(peer);
  return {
    sdp: peer.localDescription()!.sdp,
    close: () => peer.close(),
  };
}

function gathered(peer: PeerConnection): Promise<void> {
  return new Promise((resolve) => {
    if (peer.gatheringState() === 'complete') return resolve();
    peer.onGatheringStateChange((state) => state === 'complete' && resolve());
  });
}

/**
 * A browser-free WHEP viewer on node-datachannel: offers H.264 as Chromium does, receives SRTP on 127.0.0.1, and
 * rebuilds access units with the relay's own depacketizer (Annex B, ready for ffmpeg).
 */
export class WhepClient {
  readonly units: H264AccessUnit[] = [];
  /** ms from the POST to the first whole keyframe. */
  firstKeyframeMs: number | undefined;
  packets = 0;
  lost = 0;
  /** Packets dropped on purpose, NACKs sent (sequence numbers asked for) and packets recovered from RTX. */
  dropped = 0;
  nacked = 0;
  recovered = 0;
  /** The stream's SSRC, once a packet came. */
  ssrc: number | undefined;

  private readonly depacketizer = new H264Depacketizer(8 * 1024 * 1024);
  /** Answers each sender report with a receiver report at once, as a browser does (within its RTCP interval). */
  private readonly reporter = new ReceiverReporter(90000);
  /** Receiver reports sent. */
  reports = 0;
  private highestSequence: number | undefined;
  private readonly reorderer = new RtpReorderer(256, 1000);
  private rtxPayloadType: number | undefined;
  private videoPayloadType: number | undefined;
  private readonly startedAt = performance.now();
  private readonly listeners = new Set<() => void>();
  sessionUrl: string | undefined;
  answer: WhepAnswer | undefined;
  /** Why the answer could not be applied, if it could not. */
  failure: string | undefined;

  private constructor(
    private readonly peer: PeerConnection,
    readonly track: Track,
    private readonly options: WhepClientOptions,
  ) {
    track.onMessage((message) => this.onPacket(message));
  }

  /** POSTs an offer to `url` (…/NAME/whep) and applies the answer; `answer.status` tells a refusal. */
  static async connect(url: string, headers: Record<string, string> = {}, options: WhepClientOptions = {}): Promise<WhepClient> {
    const peer = new PeerConnection('whep-client', { iceServers: [], bindAddress: '127.0.0.1' });
    const video = new Video('0', 'RecvOnly');
    for (const { payloadType, profile, rtx } of OFFERED_H264) {
      video.addH264Codec(payloadType, `level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=${profile}`);
      if (options.rtx) video.addRTXCodec(rtx, payloadType, 90000);
    }
    const client = new WhepClient(peer, peer.addTrack(video), options);
    peer.setLocalDescription();
    await gathered(peer);
    client.answer = await whepRequest(url, 'POST', peer.localDescription()!.sdp, 'application/sdp', headers);
    if (client.answer.status !== 201) return client;
    client.sessionUrl = new URL(client.answer.headers.get('location')!, url).href;
    client.readAnswerFormats(client.answer.body);
    try {
      peer.setRemoteDescription(client.answer.body, 'answer');
    } catch (error) {
      client.failure = (error as Error).message;
    }
    return client;
  }

  /** Resolves once `count` access units arrived, or rejects after `timeoutMs`. */
  waitForUnits(count: number, timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (this.units.length < count) return;
        clearTimeout(timer);
        this.listeners.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.listeners.delete(check);
        reject(new Error(`${this.units.length} of ${count} access units in ${timeoutMs} ms (${this.packets} packets)`));
      }, timeoutMs);
      this.listeners.add(check);
      check();
    });
  }

  /** The first `count` received access units (all by default) as one Annex B H.264 stream. */
  annexB(count = this.units.length): Buffer {
    return Buffer.concat(this.units.slice(0, count).map((unit) => toAnnexB(unit.data)));
  }

  /** Sends a picture loss indication (RFC 4585) for the stream's SSRC, as a browser does when it cannot decode. */
  sendPli(): boolean {
    const pli = Buffer.alloc(12);
    pli[0] = 0x81;
    pli[1] = 206;
    pli.writeUInt16BE(2, 2);
    pli.writeUInt32BE(0x0badcafe, 4);
    pli.writeUInt32BE(this.ssrc ?? 0, 8);
    return this.sendRtcp(pli);
  }

  /** The highest video sequence number received (before any dropped on purpose), to aim NACKs at. */
  get highest(): number | undefined {
    return this.highestSequence;
  }

  /** Sends a generic NACK (RFC 4585) for `sequences` of the stream's SSRC, one entry each, as a receiver does on loss. */
  sendNack(sequences: readonly number[]): boolean {
    const nack = Buffer.alloc(12 + 4 * sequences.length);
    nack[0] = 0x81;
    nack[1] = 205;
    nack.writeUInt16BE(2 + sequences.length, 2);
    nack.writeUInt32BE(0x0badcafe, 4);
    nack.writeUInt32BE(this.ssrc ?? 0, 8);
    sequences.forEach((sequence, index) => nack.writeUInt16BE(sequence & 0xffff, 12 + 4 * index));
    this.nacked += sequences.length;
    return this.sendRtcp(nack);
  }

  /** Sends RTCP on the track; false once the track is closed (libdatachannel throws then, and a throw out of its message callback ends the process). */
  private sendRtcp(message: Buffer): boolean {
    try {
      return this.track.isOpen() && this.track.sendMessageBinary(message);
    } catch {
      return false;
    }
  }

  /** Ends the session with DELETE (unless `withoutDelete`: the viewer just vanishes) and closes the peer. */
  async close(withoutDelete = false): Promise<void> {
    if (this.sessionUrl && !withoutDelete) await whepRequest(this.sessionUrl, 'DELETE').catch(() => undefined);
    this.peer.close();
  }

  /** The payload types the answer chose: H.264's, and RTX's when the relay answered it. */
  private readAnswerFormats(answer: string): void {
    this.videoPayloadType = Number(/a=rtpmap:(\d+) H264\/90000/i.exec(answer)?.[1]);
    const rtx = /a=rtpmap:(\d+) rtx\/90000/i.exec(answer)?.[1];
    if (rtx !== undefined) this.rtxPayloadType = Number(rtx);
  }

  private onPacket(message: Buffer): void {
    if (isRtcp(message)) {
      if (!findSenderReport(message, Date.now())) return;
      this.reporter.onRtcp(message, Date.now());
      if (this.sendRtcp(this.reporter.buildReport(Date.now()))) this.reports++;
      return;
    }
    const received = parseRtpPacket(message);
    if (received.payloadType === this.videoPayloadType) this.reporter.onRtp(received, Date.now());
    const packet = this.rtxPayloadType !== undefined && received.payloadType === this.rtxPayloadType
      ? unwrapRtxPacket(received, { payloadType: this.videoPayloadType ?? 0, ssrc: this.ssrc ?? 0 })
      : this.arrived(received);
    if (!packet) return;
    if (packet !== received) this.recovered++;
    for (const item of this.reorderer.push(packet, performance.now())) {
      if ('lost' in item) {
        this.lost += item.lost;
        this.depacketizer.markLoss();
        continue;
      }
      for (const unit of this.depacketizer.push(item.packet)) {
        if (unit.keyframe && this.firstKeyframeMs === undefined) this.firstKeyframeMs = performance.now() - this.startedAt;
        this.units.push(unit);
      }
    }
    for (const listener of this.listeners) listener();
  }

  /** A video packet as it came: dropped here on purpose (options.dropEvery), and the numbers skipped since the last NACKed. */
  private arrived(packet: RtpPacket): RtpPacket | undefined {
    this.packets++;
    this.ssrc = packet.ssrc;
    const { dropEvery, maxDrops = Infinity, rtx } = this.options;
    if (dropEvery && this.packets % dropEvery === 0 && this.dropped < maxDrops) {
      this.dropped++;
      return undefined;
    }
    const delta = this.highestSequence === undefined ? 1 : sequenceDelta(this.highestSequence, packet.sequence);
    if (delta > 1 && (rtx || dropEvery)) {
      this.sendNack(Array.from({ length: Math.min(delta - 1, 64) }, (_, index) => (this.highestSequence! + 1 + index) & 0xffff));
    }
    if (delta > 0) this.highestSequence = packet.sequence;
    return packet;
  }
}

/** A client whose answer applied: the test client's libdatachannel now and then refuses an answer ("a remote candidate without ICE transport"); it starts again. */
export async function connectedWhepClient(endpoint: string, options: WhepClientOptions = {}): Promise<WhepClient> {
  for (let attempt = 1; ; attempt++) {
    const client = await WhepClient.connect(endpoint, {}, options);
    if (client.answer?.status !== 201 || !client.failure || attempt === 3) return client;
    await client.close();
  }
}
