import dgram from 'node:dgram';
import { isIP } from 'node:net';
import { AdapterError, asAdapterError } from '../errors.ts';
import type { RtpReceiver } from './connection.ts';

const PAIR_ATTEMPTS = 20;

function bind(socket: dgram.Socket, port: number, address: string): Promise<boolean> {
  return new Promise((resolve) => {
    const onError = (): void => resolve(false);
    socket.once('error', onError);
    socket.bind(port, address, () => {
      socket.off('error', onError);
      resolve(true);
    });
  });
}

/**
 * An RTP/RTCP socket pair on consecutive ports (RTP even, RTCP the next), as RFC 3550 asks, each found by binding
 * port 0. Datagrams from any host but the camera are ignored, so nobody else can inject frames; the camera's go straight
 * to the track's receiver, and one it throws on fails the transport.
 */
export class UdpTransport {
  private serverRtcpPort: number | undefined;
  private closed = false;

  private constructor(
    private readonly rtpSocket: dgram.Socket,
    private readonly rtcpSocket: dgram.Socket,
    private readonly cameraAddress: string,
    receiver: RtpReceiver,
    onFailure: (error: AdapterError) => void,
  ) {
    const fromCamera = (address: string): boolean => address === this.cameraAddress;
    rtpSocket.on('message', (packet, remote) => {
      if (!fromCamera(remote.address)) return;
      try {
        receiver.onRtp(packet);
      } catch (error) {
        onFailure(asAdapterError(error, 'RTSP: '));
      }
    });
    rtcpSocket.on('message', (packet, remote) => {
      if (fromCamera(remote.address)) receiver.onRtcp(packet);
    });
    const onError = (error: Error): void => {
      if (!this.closed) onFailure(new AdapterError('CONNECT', `RTSP: UDP socket: ${error.message}`));
    };
    rtpSocket.on('error', onError);
    rtcpSocket.on('error', onError);
  }

  /** Binds a consecutive pair of ports on the address family of the camera. */
  static async open(cameraAddress: string, receiver: RtpReceiver, onFailure: (error: AdapterError) => void): Promise<UdpTransport> {
    const family = isIP(cameraAddress) === 6 ? 'udp6' : 'udp4';
    const any = family === 'udp6' ? '::' : '0.0.0.0';
    for (let attempt = 0; attempt < PAIR_ATTEMPTS; attempt++) {
      const rtp = dgram.createSocket(family);
      const rtcp = dgram.createSocket(family);
      if (await bind(rtp, 0, any)) {
        const port = rtp.address().port;
        if (port % 2 === 0 && port < 65535 && (await bind(rtcp, port + 1, any))) {
          return new UdpTransport(rtp, rtcp, cameraAddress, receiver, onFailure);
        }
      }
      rtp.close();
      rtcp.close();
    }
    throw new AdapterError('CONNECT', 'RTSP: could not bind a pair of consecutive UDP ports');
  }

  /** The local ports, for the SETUP Transport header's client_port. */
  get clientPorts(): [number, number] {
    return [this.rtpSocket.address().port, this.rtcpSocket.address().port];
  }

  /** Where receiver reports go: the server's RTCP port from the SETUP reply. */
  setServerRtcpPort(port: number): void {
    this.serverRtcpPort = port;
  }

  /** Sends a receiver report to the camera's RTCP port, if it told us one. */
  sendRtcp(packet: Buffer): void {
    if (this.closed || this.serverRtcpPort === undefined) return;
    this.rtcpSocket.send(packet, this.serverRtcpPort, this.cameraAddress);
  }

  /** Closes both sockets; safe to call twice. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.rtpSocket.close();
    this.rtcpSocket.close();
  }
}
