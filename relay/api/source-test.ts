import { spawn } from 'node:child_process';
import type { AdapterRegistry, AdapterEnv } from '../../adapters/registry.ts';
import { isH264Unit, type VideoUnit } from '../../media/types.ts';
import { ConfigError, formatProblem, parseConfig } from '../../conf/parse.ts';
import type { CameraConfig } from '../../conf/types.ts';
import { toAnnexB } from '../../media/h264/annexb.ts';
import { withParameterSets } from '../../media/h264/params.ts';
import { RelayError } from '../core/errors.ts';
import { editProblem, type DirectiveEdit } from './conf-edit.ts';

/** How long one test may hold the source, and how long it watches frames once they come. */
export const SOURCE_TEST_TIMEOUT_MS = 5000;
const WATCH_MS = 1500;
const SNAPSHOT_TIMEOUT_MS = 3000;
const LET_GO_MS = 1000;

export interface SourceTestRequest {
  readonly source: string;
  readonly username?: string;
  readonly password?: string;
}

export interface SourceTestResult {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

/** Picture size, codec and rate seen, with the first keyframe kept for the snapshot (the others are only counted). */
interface Watch {
  codec?: VideoUnit['track']['codec'];
  first?: VideoUnit;
  frames: number;
  firstTimestamp?: number;
  lastTimestamp?: number;
}

/**
 * "Test this source": checks the source as a Camera block's Source would be checked, connects once with its adapter
 * for at most SOURCE_TEST_TIMEOUT_MS and reports codec, size, frame rate and a JPEG snapshot, or the adapter's error.
 */
export async function testSource(request: SourceTestRequest, adapters: AdapterRegistry, env: AdapterEnv): Promise<SourceTestResult> {
  const camera = cameraFor(request, adapters.schemes, env.mediaPath);
  const controller = new AbortController();
  const watch: Watch = { frames: 0 };
  let watched: NodeJS.Timeout | undefined;
  let timedOut = false;
  const timeout = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, SOURCE_TEST_TIMEOUT_MS);
  let failure: string | undefined;
  try {
    const running = adapters.create(camera, env).run({
      signal: controller.signal,
      onFrame: (frame) => {
        if (controller.signal.aborted) return;
        count(watch, frame);
        // Watched for WATCH_MS from the first keyframe (an H.264 source may send a few seconds of frames before one).
        if (watch.first) watched ??= setTimeout(() => controller.abort(), WATCH_MS);
      },
      onConnected: () => {},
      onWaiting: () => {},
      log: () => {},
    });
    // An adapter must end promptly once aborted; one that does not is left behind rather than holding the test.
    const letGo = new Promise<void>((resolve) => controller.signal.addEventListener('abort', () => setTimeout(resolve, LET_GO_MS).unref(), { once: true }));
    await Promise.race([running, letGo]);
  } catch (error) {
    failure = (error as Error).message;
  } finally {
    clearTimeout(timeout);
    clearTimeout(watched);
  }
  if (!watch.first || !watch.codec) {
    if (failure && !timedOut) return { status: 502, body: { error: `the source failed: ${failure}` } };
    const what = watch.frames > 0 ? `${watch.frames} frames but no keyframe` : 'no picture';
    return { status: 504, body: { error: `${what} within ${SOURCE_TEST_TIMEOUT_MS / 1000} s` } };
  }
  const span = (watch.lastTimestamp ?? 0) - (watch.firstTimestamp ?? 0);
  const frameRate = watch.frames > 1 && span > 0 ? Math.round(((watch.frames - 1) * 10_000) / span) / 10 : null;
  const snapshot = await jpegOf(watch.first, env.ffmpegPath);
  return {
    status: 200,
    body: { ok: true, codec: watch.codec, ...pictureSize(watch.first), frameRate, frames: watch.frames, snapshot: snapshot && `data:image/jpeg;base64,${snapshot.toString('base64')}` },
  };
}

/** The request as a one-camera relay.conf, parsed as relay.conf is: unknown schemes and files outside MediaPath fail the same way. */
function cameraFor(request: SourceTestRequest, schemes: readonly string[], mediaPath: string | undefined): CameraConfig {
  const directives = new Map<string, DirectiveEdit>([['Source', [request.source]]]);
  const problem = editProblem('source-test', directives) ?? credentialProblem(request);
  if (problem) throw new RelayError('BAD_REQUEST', problem);
  if (/^push:/i.test(request.source)) throw new RelayError('BAD_REQUEST', 'Source: push:// cameras wait for a publisher; there is nothing to connect to');
  const lines = [...(mediaPath ? [`MediaPath ${mediaPath}`] : []), '<Camera source-test>', ...[...directives].map(([name, values]) => `  ${name} ${values?.[0] ?? ''}`), '</Camera>'];
  try {
    const camera = parseConfig(`${lines.join('\n')}\n`, 'request', { schemes }).config.cameras[0];
    if (!camera) throw new RelayError('BAD_REQUEST', 'no camera in the request');
    // Credentials are set as given, not through relay.conf text, where a "#" would start a comment.
    return { ...camera, username: request.username ?? camera.username, password: request.password ?? camera.password };
  } catch (error) {
    if (error instanceof ConfigError) throw new RelayError('BAD_REQUEST', error.problems.map((problem) => formatProblem(problem).replace(/^request:\d+: /, '')).join('; '));
    throw error;
  }
}

function credentialProblem({ username, password }: SourceTestRequest): string | undefined {
  for (const [field, value] of [['username', username], ['password', password]] as const) {
    if (value !== undefined && /[\u0000-\u001f\u007f]/.test(value)) return `${field}: control characters are not allowed`;
  }
  return undefined;
}

function count(watch: Watch, frame: VideoUnit): void {
  watch.frames++;
  watch.firstTimestamp ??= frame.pts;
  watch.lastTimestamp = frame.pts;
  watch.codec ??= frame.track.codec;
  if (!watch.first && frame.keyframe) watch.first = frame;
}

/** Width and height as the keyframe states them (JPEG SOF, H.264 SPS, VP8 key frame header). */
function pictureSize(frame: VideoUnit): { width: number | null; height: number | null } {
  try {
    if (isH264Unit(frame)) {
      return { width: frame.track.width, height: frame.track.height };
    } else if (frame.track.codec === 'vp8' && frame.data.length >= 10) {
      return { width: frame.data.readUInt16LE(6) & 0x3fff, height: frame.data.readUInt16LE(8) & 0x3fff };
    } else if (frame.track.codec === 'jpeg') {
      return jpegSize(frame.data);
    }
  } catch {
    // a header that does not parse: the size is simply not known
  }
  return { width: null, height: null };
}

function jpegSize(data: Buffer): { width: number | null; height: number | null } {
  let at = 2;
  while (at + 9 < data.length && data[at] === 0xff) {
    const marker = data[at + 1]!;
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      return { height: data.readUInt16BE(at + 5), width: data.readUInt16BE(at + 7) };
    }
    at += 2 + data.readUInt16BE(at + 2);
  }
  return { width: null, height: null };
}

/** A JPEG frame as it is; an H.264 keyframe decoded once by ffmpeg (no shell, bounded in time); VP8 has none. */
async function jpegOf(frame: VideoUnit, ffmpegPath: string): Promise<Buffer | undefined> {
  if (!isH264Unit(frame)) return frame.track.codec === 'jpeg' ? frame.data : undefined;
  return new Promise((resolve) => {
    const child = spawn(ffmpegPath, ['-hide_banner', '-nostats', '-loglevel', 'error', '-f', 'h264', '-i', 'pipe:0', '-frames:v', '1', '-c:v', 'mjpeg', '-f', 'mjpeg', 'pipe:1'], { stdio: ['pipe', 'pipe', 'ignore'] });
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => child.kill('SIGKILL'), SNAPSHOT_TIMEOUT_MS);
    child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
    child.stdin.on('error', () => {});
    child.on('error', () => resolve(undefined));
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve(code === 0 && chunks.length > 0 ? Buffer.concat(chunks) : undefined);
    });
    child.stdin.end(toAnnexB(withParameterSets(frame)));
  });
}
