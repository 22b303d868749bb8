import { execFileSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { AdapterError } from '../../adapters/errors.ts';
import { JpegSplitter } from '../../media/jpeg/splitter.ts';
import { AdapterRegistry, type AdapterRegistration } from '../../adapters/registry.ts';
import { testsrcAdapter } from '../../adapters/testsrc/testsrc.ts';
import type { AdapterSink, CameraAdapter } from '../../adapters/types.ts';
import { jpegUnit } from '../../media/types.ts';

/** Real JPEG frames (320x240 test pattern unless told; `pattern` is an ffmpeg lavfi source), made once by ffmpeg. */
export function makeJpegFrames(count = 25, size = '320x240', quality = 8, pattern = 'testsrc'): Buffer[] {
  const bytes = execFileSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', `${pattern}=size=${size}:rate=25`, '-frames:v', String(count), '-q:v', String(quality), '-f', 'mjpeg', 'pipe:1'],
    { maxBuffer: 256 * 1024 * 1024 });
  return new JpegSplitter(1 << 24).push(bytes);
}

/** What the camera does now: send frames, send nothing while connected, refuse connections, or send garbage. */
export type CameraMode = 'up' | 'stall' | 'down' | 'garbage';

/**
 * A camera tests can steer: `mode` changes take effect at once (a connected run fails when the camera goes down).
 * Counts connections so tests can assert one upstream per camera.
 */
export class ControllableCamera {
  mode: CameraMode = 'up';
  connections = 0;
  activeConnections = 0;
  /** How long connecting takes before the first frame, ms; `connecting` counts runs inside that phase. */
  connectDelayMs = 0;
  connecting = 0;
  private readonly kick = new Set<() => void>();

  constructor(
    readonly frames: Buffer[],
    readonly rate = 10,
  ) {}

  setMode(mode: CameraMode): void {
    this.mode = mode;
    if (mode === 'down') for (const fail of this.kick) fail();
  }

  adapter(): CameraAdapter {
    return { kind: 'controllable', run: (sink) => this.run(sink) };
  }

  private async run(sink: AdapterSink): Promise<void> {
    if (this.mode === 'down') throw new AdapterError('CONNECT', 'connection refused');
    this.connections++;
    this.activeConnections++;
    if (this.connectDelayMs > 0) {
      this.connecting++;
      await new Promise((resolve) => setTimeout(resolve, this.connectDelayMs));
      this.connecting--;
    }
    sink.onConnected();
    return new Promise<void>((resolve, reject) => {
      let index = 0;
      const timer = setInterval(() => {
        if (this.mode === 'stall') return;
        const data = this.mode === 'garbage' ? Buffer.from('garbage, not a jpeg') : this.frames[index++ % this.frames.length]!;
        if (this.mode === 'garbage') return; // an adapter drops what is not a JPEG: nothing reaches the sink
        sink.onFrame(jpegUnit(data, performance.now()));
      }, 1000 / this.rate);
      const finish = (error?: Error): void => {
        clearInterval(timer);
        this.kick.delete(fail);
        sink.signal.removeEventListener('abort', stop);
        this.activeConnections--;
        if (error) reject(error);
        else resolve();
      };
      const fail = (): void => finish(new AdapterError('CLOSED', 'camera closed the connection'));
      const stop = (): void => finish();
      this.kick.add(fail);
      sink.signal.addEventListener('abort', stop, { once: true });
    });
  }
}

/** A registry with the real adapters plus `ctl://NAME` cameras served by the given ControllableCameras. */
export function registryWith(cameras: Record<string, ControllableCamera>): AdapterRegistry {
  const controllable: AdapterRegistration = {
    schemes: ['ctl'],
    create: (camera) => {
      const target = cameras[new URL(camera.source).host];
      if (!target) throw new Error(`no controllable camera ${camera.source}`);
      return target.adapter();
    },
  };
  return new AdapterRegistry([testsrcAdapter, controllable]);
}
