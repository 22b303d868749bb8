import { HttpAdapter } from '../../../adapters/http/adapter.ts';
import { AdapterError } from '../../../adapters/errors.ts';
import type { CameraConfig } from '../../../conf/types.ts';
import { makeCameraConfig } from '../../helpers/camera-config.ts';
import { RecordingSink } from '../../helpers/sink.ts';

/** An HttpAdapter running against `url`, with its sink and a promise of how run() ended. */
export interface RunningAdapter {
  readonly adapter: HttpAdapter;
  readonly sink: RecordingSink;
  /** 'resolved', or the AdapterError run() rejected with; never rejects itself. */
  readonly outcome: Promise<'resolved' | AdapterError>;
}

/** Starts an HttpAdapter with short test timeouts; the caller stops it with sink.stop(). */
export function runAdapter(url: string, overrides: Partial<CameraConfig> = {}): RunningAdapter {
  const adapter = new HttpAdapter(makeCameraConfig(url, { connectTimeoutMs: 2000, readTimeoutMs: 2000, ...overrides }));
  const sink = new RecordingSink();
  const outcome = adapter.run(sink).then(
    () => 'resolved' as const,
    (error: unknown) => {
      if (error instanceof AdapterError) return error;
      throw error;
    },
  );
  return { adapter, sink, outcome };
}

/** Resolves with the AdapterError run() failed with; rejects if it resolved or took longer than `timeoutMs`. */
export async function failure(running: RunningAdapter, timeoutMs = 5000): Promise<AdapterError> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`run() still going after ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    const outcome = await Promise.race([running.outcome, timeout]);
    if (outcome === 'resolved') throw new Error('run() resolved instead of failing');
    return outcome;
  } finally {
    clearTimeout(timer);
    running.sink.stop();
  }
}
