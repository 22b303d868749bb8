import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Readable, Writable } from 'node:stream';

const SCRIPT = fileURLToPath(new URL('./gst-rtsp-server.py', import.meta.url));
/** Debian's python3 has the GStreamer bindings (python3-gi); another python3 may come first on PATH. */
const PYTHON = '/usr/bin/python3';

export interface GstServerOptions {
  readonly codec: 'h264' | 'jpeg';
  readonly fps: number;
  readonly auth?: { readonly scheme: 'basic' | 'digest'; readonly username: string; readonly password: string };
  /** videotestsrc properties of the served pattern, e.g. `pattern=smpte horizontal-speed=4`; default `pattern=ball`. */
  readonly pattern?: string;
  /** A 1 kHz tone beside the picture, in this codec. */
  readonly audio?: 'aac' | 'pcma' | 'pcmu' | 'opus';
  /** A whole launch line, `( ... name=pay0 ... )`, served instead of the test pattern (codec, fps, pattern, audio unused). */
  readonly launch?: string;
}

/** A GStreamer RTSP server child process serving a test pattern at /cam on a port of its own choosing. */
export class GstRtspServer {
  clientConnections = 0;

  private constructor(
    private readonly child: ChildProcessByStdio<Writable, Readable, Readable>,
    readonly port: number,
  ) {}

  /** Starts the server and waits (up to `timeoutMs`) for it to print its port. */
  static start(options: GstServerOptions, timeoutMs = 10_000): Promise<GstRtspServer> {
    const env: NodeJS.ProcessEnv = { ...process.env };
    if (options.pattern) env.RTSP_TEST_PATTERN = options.pattern;
    if (options.audio) env.RTSP_TEST_AUDIO = options.audio;
    if (options.launch) env.RTSP_TEST_LAUNCH = options.launch;
    if (options.auth) {
      env.RTSP_TEST_USER = options.auth.username;
      env.RTSP_TEST_PASSWORD = options.auth.password;
      env.RTSP_TEST_AUTH = options.auth.scheme;
    }
    // stdin stays open as a lifeline: the script exits when it closes, even if this process dies.
    const child = spawn(PYTHON, [SCRIPT, options.codec, String(options.fps)], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    return new Promise((resolve, reject) => {
      let server: GstRtspServer | undefined;
      let stderr = '';
      let buffered = '';
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`GStreamer RTSP server did not start within ${timeoutMs} ms: ${stderr.slice(-500)}`));
      }, timeoutMs);
      child.stderr.on('data', (chunk: Buffer) => {
        stderr = (stderr + chunk.toString()).slice(-4000);
      });
      child.stdout.on('data', (chunk: Buffer) => {
        buffered += chunk.toString();
        const lines = buffered.split('\n');
        buffered = lines.pop() ?? '';
        for (const line of lines) {
          const port = /^port (\d+)$/.exec(line);
          if (port && !server) {
            clearTimeout(timer);
            server = new GstRtspServer(child, Number(port[1]));
            resolve(server);
          } else if (line === 'client-connected' && server) {
            server.clientConnections++;
          }
        }
      });
      child.on('exit', (code) => {
        clearTimeout(timer);
        if (!server) reject(new Error(`GStreamer RTSP server exited with ${code}: ${stderr.slice(-500)}`));
      });
    });
  }

  get url(): string {
    return `rtsp://127.0.0.1:${this.port}/cam`;
  }

  /** Closes the lifeline and waits for the exit; kills it if it lingers. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.stdin.end();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 3_000);
    await exited;
    clearTimeout(timer);
  }
}
