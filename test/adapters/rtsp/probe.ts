import { spawn } from 'node:child_process';

/** What ffprobe found in a byte stream: the first video stream's size and how many frames it decoded. */
export interface ProbeResult {
  readonly codec: string;
  readonly width: number;
  readonly height: number;
  readonly decodedFrames: number;
  /** What ffprobe printed at level error: decoding errors, empty when every frame decoded cleanly. */
  readonly errors: string;
}

/** Runs ffprobe on `data` given on stdin as `format`, decoding every frame; rejects if it cannot. */
export function probe(data: Buffer, format: 'h264' | 'mjpeg', timeoutMs = 15_000): Promise<ProbeResult> {
  const args = ['-v', 'error', '-f', format, '-count_frames', '-show_entries', 'stream=codec_name,width,height,nb_read_frames', '-of', 'json', 'pipe:0'];
  const child = spawn('/usr/bin/ffprobe', args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2000)));
  child.stdin.on('error', () => {}); // ffprobe may stop reading early; its exit status tells
  child.stdin.end(data);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code !== 0) return reject(new Error(`ffprobe exited ${code}: ${stderr}`));
      const stream = (JSON.parse(stdout) as { streams?: Array<Record<string, string | number>> }).streams?.[0];
      if (!stream) return reject(new Error(`ffprobe found no stream: ${stderr}`));
      resolve({
        codec: String(stream.codec_name),
        width: Number(stream.width),
        height: Number(stream.height),
        decodedFrames: Number(stream.nb_read_frames),
        errors: stderr.trim(),
      });
    });
  });
}
