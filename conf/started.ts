import { buildCamera, buildStream } from './build.ts';
import { DIRECTIVES } from './directives.ts';
import { ConfigError, Problems, type DirectiveValues, type ParsedBlock } from './parse.ts';
import type { CameraConfig, RelayConfig, StreamConfig } from './types.ts';

/** A block given as directive values (already typed, as the parser would have read them), not as config text. */
export interface BlockValues {
  readonly name: string;
  readonly directives: Readonly<Record<string, unknown>>;
}

/** Where such blocks are reported in errors: they come from a request, not from a file. */
const ORIGIN = 'api';

/**
 * A camera and its streams started at run time (the VOD API), built by the same code as relay.conf blocks: the
 * directive table's defaults and the running config's VodStreamTimeout and security apply, and every check runs.
 * Throws ConfigError listing the problems. Access is left to the caller: a started stream's is asked for per request.
 */
export function buildStartedCamera(
  running: RelayConfig,
  camera: BlockValues,
  streams: readonly BlockValues[],
  schemes: readonly string[],
): { camera: CameraConfig; streams: StreamConfig[] } {
  const problems = new Problems(ORIGIN);
  const retry = { maxDelayMs: DIRECTIVES.global.RetryMaxDelay!.default as number, resetAfterMs: DIRECTIVES.global.RetryResetAfter!.default as number };
  const built = buildCamera(block('Camera', camera), problems, schemes, running.vodStreamTimeoutMs, retry, running.security);
  const builtStreams: StreamConfig[] = [];
  for (const stream of streams) {
    const config = buildStream(block('Stream', stream), problems, running.security, running.webrtcDefault);
    if (config) builtStreams.push(withoutAccess(config));
  }
  if (problems.errors.length > 0 || !built) throw new ConfigError(problems.errors.length > 0 ? problems.errors : [{ file: ORIGIN, line: 0, message: `<Camera ${camera.name}>: not usable` }]);
  return { camera: built, streams: builtStreams };
}

function block(kind: 'Camera' | 'Stream', given: BlockValues): ParsedBlock {
  const values: DirectiveValues = new Map(Object.entries(given.directives).map(([name, value]) => [name, { value, line: 0 }]));
  for (const name of values.keys()) if (!DIRECTIVES[kind][name]) throw new Error(`${name} is not a ${kind} directive`);
  return { kind, name: given.name, line: 0, values };
}

function withoutAccess({ access: _built, ...stream }: StreamConfig): StreamConfig {
  return stream;
}
