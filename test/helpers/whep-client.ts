import { toAnnexB } from '../../media/h264/annexb.ts';
import { PeerConnection, Video, type Track } from 'node-datachannel';
import { H264Depacketizer, type H264AccessUnit } from '../../media/rtp/h264-depacketizer.ts';
import { isRtcp } from '../../media/rtp/rtcp-feedback.ts';
import { parseRtpPacket, sequenceDelta } from '../../media/rtp/rtp.ts';

/** The H.264 formats Chromium offers (profile-level-id, payload type), so the relay chooses among real choices. */
const OFFERED_H264 = [
  { payloadType: 102, profile: '42001f' },
  { payloadType: 106, profile: '42e01f' },
  { payloadType: 112, profile: '64001f' },
  { payloadType: 127, profile: '4d001f' },
];

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
  /** The stream's SSRC, once a packet came. */
  ssrc: number | undefined;

  private readonly depacketizer = new H264Depacketizer(8 * 1024 * 1024);
  private lastSequence: number | undefined;
  private readonly startedAt = performance.now();
  private readonly listeners = new Set<() => void>();
  sessionUrl: string | undefined;
  answer: WhepAnswer | undefined;
  /** Why the answer could not be applied, if it could not. */
  failure: string | undefined;

  private constructor(
    private readonly peer: PeerConnection,
    readonly track: Track,
  ) {
    track.onMessage((message) => this.onPacket(message));
  }

  /** POSTs an offer to `url` (…/NAME/whep) and applies the answer; `answer.status` tells a refusal. */
  static async connect(url: string, headers: Record<string, string> = {}): Promise<WhepClient> {
    const peer = new PeerConnection('whep-client', { iceServers: [], bindAddress: '127.0.0.1' });
    const video = new Video('0', 'RecvOnly');
    for (const { payloadType, profile } of OFFERED_H264) video.addH264Codec(payloadType, `level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=${profile}`);
    const client = new WhepClient(peer, peer.addTrack(video));
    peer.setLocalDescription();
    await gathered(peer);
    client.answer = await whepRequest(url, 'POST', peer.localDescription()!.sdp, 'application/sdp', headers);
    if (client.answer.status !== 201) return client;
    client.sessionUrl = new URL(client.answer.headers.get('location')!, url).href;
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
    return this.track.sendMessageBinary(pli);
  }

  /** Ends the session with DELETE (unless `withoutDelete`: the viewer just vanishes) and closes the peer. */
  async close(withoutDelete = false): Promise<void> {
    if (this.sessionUrl && !withoutDelete) await whepRequest(this.sessionUrl, 'DELETE').catch(() => undefined);
    this.peer.close();
  }

  private onPacket(message: Buffer): void {
    if (isRtcp(message)) return;
    const packet = parseRtpPacket(message);
    this.packets++;
    this.ssrc = packet.ssrc;
    if (this.lastSequence !== undefined) {
      const delta = sequenceDelta(this.lastSequence, packet.sequence);
      if (delta <= 0) return;
      if (delta > 1) {
        this.lost += delta - 1;
        this.depacketizer.markLoss();
      }
    }
    this.lastSequence = packet.sequence;
    for (const unit of this.depacketizer.push(packet)) {
      if (unit.keyframe && this.firstKeyframeMs === undefined) this.firstKeyframeMs = performance.now() - this.startedAt;
      this.units.push(unit);
    }
    for (const listener of this.listeners) listener();
  }
}

/** A client whose answer applied: the test client's libdatachannel now and then refuses an answer ("a remote candidate without ICE transport"); it starts again. */
export async function connectedWhepClient(endpoint: string): Promise<WhepClient> {
  for (let attempt = 1; ; attempt++) {
    const client = await WhepClient.connect(endpoint);
    if (client.answer?.status !== 201 || !client.failure || attempt === 3) return client;
    await client.close();
  }
}
