import type { CameraConfig } from '../../conf/types.ts';
import { AdapterError, asAdapterError } from '../errors.ts';
import type { AdapterRegistration } from '../registry.ts';
import type { AdapterSink, CameraAdapter } from '../types.ts';
import { RtspConnection } from './connection.ts';
import { parseSdp, resolveControl } from '../../media/rtsp/sdp.ts';
import { pickVideoMedia, VideoTrack } from './track.ts';
import { SessionClock } from './session-clock.ts';
import { parseSession, parseTransportReply, transportRequest } from './transport.ts';
import { UdpTransport } from './udp.ts';
import { pickAudioMedia, rtspAudioReceiver } from './audio-track.ts';
import type { RtpAudioReceiver } from '../../media/rtp/audio-receiver.ts';
import { createAudioDepacketizer } from '../../media/rtsp/sdp-audio.ts';
import { TrackSync } from '../../media/rtp/track-sync.ts';
import type { SdpMedia } from '../../media/rtsp/sdp.ts';
import type { RtspResponse } from './connection.ts';

const DEFAULT_PORT = 554;
const RTCP_INTERVAL_MS = 5_000;
/** The first receiver report goes out soon, so the camera hears from the client before its own timeout logic starts. */
const FIRST_RTCP_MS = 1_000;
/** Keep-alives go out at half the session timeout, so one lost or slow reply still leaves time. */
const KEEPALIVE_FRACTION = 0.5;

/** Thrown inside the setup sequence when the run has already ended, to stop it quietly. */
class Stopped extends Error {}

/**
 * One RTSP session with a camera: OPTIONS, DESCRIBE, SETUP of the first supported video track, PLAY, then keep-alives
 * and receiver reports while frames flow, and TEARDOWN when the Feed stops it.
 */
class RtspSession {
  private connection: RtspConnection | undefined;
  private udp: UdpTransport | undefined;
  private track: VideoTrack | undefined;
  private sessionId: string | undefined;
  private controlUri: string;
  private rtcpChannel = 1;
  /** One clock for the picture and the sound, from the session's first packet. */
  private readonly clock = new SessionClock();
  private audio: { receiver: RtpAudioReceiver; udp: UdpTransport | undefined; rtcpChannel: number } | undefined;
  private readonly timers: NodeJS.Timeout[] = [];
  private dataWatchdog: NodeJS.Timeout | undefined;
  private settled = false;
  private settle: { resolve: () => void; reject: (error: AdapterError) => void } | undefined;

  constructor(
    private readonly camera: CameraConfig,
    private readonly sink: AdapterSink,
  ) {
    this.controlUri = camera.source;
  }

  /** Resolves when the sink's signal aborts; rejects with the first failure. */
  run(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.settle = { resolve, reject };
      this.sink.signal.addEventListener('abort', this.onAbort, { once: true });
      if (this.sink.signal.aborted) return this.onAbort();
      this.start().catch((error: unknown) => this.fail(error));
    });
  }

  /** Releases every socket and timer; safe to call twice. */
  close(): void {
    this.settled = true;
    this.sink.signal.removeEventListener('abort', this.onAbort);
    for (const timer of this.timers) clearInterval(timer);
    clearTimeout(this.dataWatchdog);
    this.connection?.close();
    this.udp?.close();
    this.audio?.udp?.close();
  }

  private readonly onAbort = (): void => {
    if (this.settled) return;
    this.settled = true;
    if (this.connection && this.sessionId !== undefined) {
      this.connection.closeWith('TEARDOWN', this.controlUri, [['Session', this.sessionId]]);
    }
    this.settle?.resolve();
  };

  private fail(error: unknown): void {
    if (this.settled || error instanceof Stopped) return;
    this.settled = true;
    const adapterError = asAdapterError(error, 'RTSP: ');
    this.settle?.reject(adapterError);
  }

  /** Between steps: stop quietly if the run ended while a step was waiting. */
  private checkRunning(): void {
    if (this.settled) throw new Stopped();
  }

  private async start(): Promise<void> {
    const url = new URL(this.camera.source);
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const port = url.port ? Number(url.port) : DEFAULT_PORT;
    const uri = this.camera.source;
    const credentials = this.camera.username === undefined ? undefined : { username: this.camera.username, password: this.camera.password ?? '' };
    const connection = await RtspConnection.open(host, port, {
      timeoutMs: this.camera.connectTimeoutMs,
      replyTimeoutMs: this.camera.readTimeoutMs,
      credentials,
      events: { onFailure: (error) => this.fail(error) },
    });
    this.connection = connection;
    if (this.settled) connection.close();
    this.checkRunning();

    const options = await connection.request('OPTIONS', uri);
    const keepAliveMethod = /\bGET_PARAMETER\b/i.test(options.headers.get('Public') ?? '') ? 'GET_PARAMETER' : 'OPTIONS';
    this.checkRunning();
    const describe = await connection.request('DESCRIBE', uri, [['Accept', 'application/sdp']]);
    this.checkRunning();
    const sdp = parseSdp(describe.body.toString('utf8'));
    const base = describe.headers.get('Content-Base') ?? describe.headers.get('Content-Location') ?? uri;
    const media = pickVideoMedia(sdp.media);
    const track = new VideoTrack(media, this.camera.maxFrameBytes, this.sink, this.clock);
    this.track = track;

    const tcp = this.camera.rtspTransport === 'tcp';
    if (!tcp) {
      const udp = await UdpTransport.open(connection.remoteAddress ?? host, track, (error) => this.fail(error));
      this.udp = udp;
      if (this.settled) udp.close();
      this.checkRunning();
    }
    const trackUri = resolveControl(base, media.control);
    const setup = await connection.request('SETUP', trackUri, [['Transport', transportRequest(tcp, this.udp?.clientPorts)]]);
    this.checkRunning();
    const transport = parseTransportReply(setup.headers.get('Transport'));
    if (transport.tcp !== tcp) throw new AdapterError('PROTOCOL', `RTSP: asked for ${tcp ? 'TCP' : 'UDP'}, the camera answered with another transport`);
    const session = parseSession(setup.headers.get('Session'));
    this.sessionId = session.id;
    const channels = transport.interleaved ?? [0, 1];
    this.rtcpChannel = channels[1];
    connection.route(channels, track);
    if (transport.serverPorts) this.udp?.setServerRtcpPort(transport.serverPorts[1]);
    this.controlUri = sdp.control === undefined ? base : resolveControl(base, sdp.control);
    const audioMedia = pickAudioMedia(sdp.media);
    if (audioMedia) await this.setupAudio(connection, audioMedia, resolveControl(base, audioMedia.control), tcp, host, session.id);
    else if (sdp.media.some((section) => section.type === 'audio')) {
      this.sink.log('RTSP: the camera\'s audio codec is not supported: picture only');
      this.sink.onAudioLeftOut?.('its codec is not supported');
    }

    await connection.request('PLAY', this.controlUri, [['Session', session.id], ['Range', 'npt=0.000-']]);
    this.checkRunning();
    this.sink.log(`RTSP: playing ${media.encoding ?? 'video'} over ${tcp ? 'TCP' : 'UDP'}`);
    this.sink.onConnected();
    this.armDataWatchdog();
    const keepAliveMs = Math.max(500, session.timeoutSeconds * 1000 * KEEPALIVE_FRACTION);
    this.timers.push(setInterval(() => this.keepAlive(keepAliveMethod, uri), keepAliveMs));
    this.timers.push(setTimeout(() => this.sendReceiverReport(), FIRST_RTCP_MS));
    this.timers.push(setInterval(() => this.sendReceiverReport(), RTCP_INTERVAL_MS));
  }

  /**
   * Sets up the camera's audio track in the same session. Sound is not worth the picture: an audio track the camera
   * refuses or describes badly is logged and left out, and the video plays on.
   */
  private async setupAudio(connection: RtspConnection, media: SdpMedia, uri: string, tcp: boolean, host: string, sessionId: string): Promise<void> {
    let receiver: RtpAudioReceiver;
    let sync: TrackSync;
    try {
      const depacketizer = createAudioDepacketizer(media);
      sync = new TrackSync(depacketizer.track.clockRate, this.track?.clockRate ?? 90_000,
        (shiftMs) => this.sink.log(`RTSP: sound aligned to the picture by the camera's sender reports (${shiftMs >= 0 ? '+' : ''}${shiftMs.toFixed(0)} ms from arrival times)`));
      receiver = rtspAudioReceiver(media, depacketizer, {
        sync, clock: this.clock, onUnit: (unit) => this.sink.onAudio?.(unit), onStopped: (error) => this.onAudioStopped(error),
      });
    } catch (error) {
      this.sink.log(`RTSP: audio left out: ${(error as Error).message}`);
      this.sink.onAudioLeftOut?.((error as Error).message);
      return;
    }
    let udp: UdpTransport | undefined;
    if (!tcp) {
      udp = await UdpTransport.open(connection.remoteAddress ?? host, receiver, (error) => this.fail(error));
      if (this.settled) udp.close();
      this.checkRunning();
    }
    let reply: RtspResponse;
    try {
      reply = await connection.request('SETUP', uri, [['Transport', transportRequest(tcp, udp?.clientPorts, 2)], ['Session', sessionId]]);
    } catch (error) {
      udp?.close();
      this.checkRunning();
      this.sink.log(`RTSP: audio left out: SETUP refused (${(error as Error).message})`);
      return;
    }
    this.checkRunning();
    const transport = parseTransportReply(reply.headers.get('Transport'));
    if (transport.serverPorts) udp?.setServerRtcpPort(transport.serverPorts[1]);
    const channels = transport.interleaved ?? [2, 3];
    if (tcp) connection.route(channels, receiver);
    this.audio = { receiver, udp, rtcpChannel: channels[1] };
    this.track?.alignAudio(sync);
    this.sink.log(`RTSP: with ${media.encoding} audio`);
    this.sink.onAudioAnnounced?.(receiver.track);
  }

  /** Audio the client cannot read costs the sound, not the picture. */
  private onAudioStopped(error: Error): void {
    if (this.settled) return;
    this.sink.log(`RTSP: audio stopped: ${error.message}`);
    this.sink.onAudioLeftOut?.(error.message);
    this.audio = undefined;
  }

  private keepAlive(method: string, uri: string): void {
    if (!this.connection || this.sessionId === undefined) return;
    this.connection.request(method, method === 'OPTIONS' ? uri : this.controlUri, [['Session', this.sessionId]]).catch((error: unknown) => this.fail(error));
  }

  private sendReceiverReport(): void {
    if (!this.track) return;
    const report = this.track.reporter.buildReport(performance.now());
    if (this.udp) this.udp.sendRtcp(report);
    else this.connection?.sendInterleaved(this.rtcpChannel, report);
    const audio = this.audio;
    if (!audio) return;
    const audioReport = audio.receiver.reporter.buildReport(performance.now());
    if (audio.udp) audio.udp.sendRtcp(audioReport);
    else this.connection?.sendInterleaved(audio.rtcpChannel, audioReport);
  }

  /** Fails the run once the video track has had no packet for ReadTimeout; it reads the track's last arrival when due. */
  private armDataWatchdog(): void {
    const ms = this.camera.readTimeoutMs;
    const armedAt = performance.now();
    const check = (): void => {
      const idleMs = performance.now() - Math.max(armedAt, this.track?.lastPacketAt ?? armedAt);
      if (idleMs >= ms) this.fail(new AdapterError('TIMEOUT', `RTSP: no RTP data for ${ms} ms`));
      else this.dataWatchdog = setTimeout(check, ms - idleMs);
    };
    this.dataWatchdog = setTimeout(check, ms);
  }
}

/** The RTSP camera adapter (`rtsp://`): H.264 or JPEG video over interleaved TCP or UDP. */
export class RtspAdapter implements CameraAdapter {
  readonly kind = 'rtsp';

  constructor(private readonly camera: CameraConfig) {}

  async run(sink: AdapterSink): Promise<void> {
    const session = new RtspSession(this.camera, sink);
    try {
      await session.run();
    } finally {
      session.close();
    }
  }
}

/** Registers the adapter for rtsp:// sources. */
export const rtspAdapter: AdapterRegistration = {
  schemes: ['rtsp'],
  create: (camera) => new RtspAdapter(camera),
};
