import { spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { request } from 'node:http';
import type { Test } from 'tap';

export type PublisherCodec = 'vp8' | 'h264' | 'jpeg';

/** The encoder and RTP payloader of each codec, as a GStreamer publisher runs them, sending with `ssrc` if given. */
export function encoderElements(codec: PublisherCodec, bitrateKbps = 500, ssrc?: number): string[] {
  const ssrcProperty = ssrc === undefined ? [] : [`ssrc=${ssrc}`];
  if (codec === 'vp8') return ['vp8enc', 'deadline=1', 'keyframe-max-dist=25', `target-bitrate=${bitrateKbps * 1000}`, '!', 'rtpvp8pay', 'pt=96', ...ssrcProperty];
  if (codec === 'h264') return ['x264enc', 'tune=zerolatency', 'speed-preset=ultrafast', 'key-int-max=25', `bitrate=${bitrateKbps}`, '!', 'rtph264pay', 'pt=96', 'config-interval=-1', ...ssrcProperty];
  return ['jpegenc', 'quality=60', '!', 'rtpjpegpay', ...ssrcProperty];
}

export interface GstPublisherOptions {
  readonly codec: PublisherCodec;
  readonly host: string;
  readonly rtpPort: number;
  readonly rtcpPort: number;
  /** The SSRC start_stream assigned. */
  readonly ssrc?: number;
  readonly width?: number;
  readonly height?: number;
  readonly rate?: number;
  /** Local address the RTP and RTCP datagrams are sent from (127.0.0.2 to play a spoofing host). */
  readonly bindAddress?: string;
  /** videotestsrc properties of the picture sent; default `pattern=ball`. */
  readonly pattern?: string;
  /** A 1 kHz tone as Opus beside the picture, through the same rtpbin (so both tracks' sender reports share a clock). */
  readonly audio?: { readonly rtpPort: number; readonly rtcpPort: number; readonly ssrc: number };
}

/**
 * The original streaming client's publisher: `videotestsrc is-live=true ! ENCODER ! PAYLOADER ! rtpbin ! udpsink`, RTCP sent through rtpbin.
 * Returns the child; kill it with SIGKILL to play a source that vanishes without stop_stream.
 */
export function startGstPublisher(options: GstPublisherOptions): ChildProcess {
  const { codec, host, rtpPort, rtcpPort, width = 320, height = 240, rate = 25 } = options;
  const bind = options.bindAddress ? [`bind-address=${options.bindAddress}`] : [];
  const args = [
    '-q', 'rtpbin', 'name=rtpbin',
    'videotestsrc', 'is-live=true', ...(options.pattern ?? 'pattern=ball').split(' '), '!', `video/x-raw,format=I420,width=${width},height=${height},framerate=${rate}/1`, '!', ...encoderElements(codec, 500, options.ssrc), '!', 'rtpbin.send_rtp_sink_0',
    'rtpbin.send_rtp_src_0', '!', 'udpsink', `host=${host}`, `port=${rtpPort}`, ...bind,
    'rtpbin.send_rtcp_src_0', '!', 'udpsink', `host=${host}`, `port=${rtcpPort}`, 'sync=false', 'async=false', ...bind,
  ];
  const audio = options.audio;
  if (audio) {
    args.push('audiotestsrc', 'is-live=true', 'freq=1000', 'volume=0.5', '!', 'audioconvert', '!', 'audioresample', '!', 'opusenc', '!', 'rtpopuspay', 'pt=97', `ssrc=${audio.ssrc}`, '!', 'rtpbin.send_rtp_sink_1',
      'rtpbin.send_rtp_src_1', '!', 'udpsink', `host=${host}`, `port=${audio.rtpPort}`, ...bind,
      'rtpbin.send_rtcp_src_1', '!', 'udpsink', `host=${host}`, `port=${audio.rtcpPort}`, 'sync=false', 'async=false', ...bind);
  }
  return spawn('gst-launch-1.0', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** Stops a child and waits for it to exit. */
export async function stopChild(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill(signal);
  await exited;
}

/** One POST /api/source with a JSON (or raw) body: the status and the parsed answer. */
export function sourceApi(
  baseUrl: string,
  body: unknown,
  options: { raw?: string | Buffer; localAddress?: string; authorization?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; json: Record<string, unknown> }> {
  const payload = options.raw ?? JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const headers = { 'Content-Type': 'application/json', ...(options.authorization ? { Authorization: options.authorization } : {}), ...options.headers };
    const req = request(`${baseUrl}/api/source`, { method: 'POST', headers, localAddress: options.localAddress }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        try {
          resolve({ status: response.statusCode ?? 0, json: JSON.parse(text) as Record<string, unknown> });
        } catch {
          reject(new Error(`not JSON (${response.statusCode}): ${text.slice(0, 200)}`));
        }
      });
    });
    req.on('error', reject);
    req.end(payload);
  });
}

/** Polls validate_stream until it answers 0, or fails with its last answer. */
export async function waitValidated(baseUrl: string, id: string, timeoutMs = 15_000): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs;
  let last: Record<string, unknown> = {};
  while (Date.now() < deadline) {
    last = (await sourceApi(baseUrl, { action: 'validate_stream', utilization_id: id })).json;
    if (last.validation_code === 0) return last;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`validate_stream never answered 0: ${JSON.stringify(last)}`);
}

/** A publisher's RTCP socket: sends one sender report to the stream's RTCP port, and keeps what comes back. */
export async function rtcpPeer(t: Test, rtpPort: number, ssrc: number): Promise<Buffer[]> {
  const received: Buffer[] = [];
  const rtcp = dgram.createSocket('udp4');
  rtcp.on('message', (packet) => received.push(packet));
  await new Promise<void>((resolve) => rtcp.bind(0, '127.0.0.1', () => resolve()));
  t.teardown(() => rtcp.close());
  const senderReport = Buffer.alloc(28);
  senderReport.set([0x80, 200, 0, 6]);
  senderReport.writeUInt32BE(ssrc, 4);
  await new Promise((resolve) => rtcp.send(senderReport, rtpPort + 1, '127.0.0.1', resolve));
  return received;
}
