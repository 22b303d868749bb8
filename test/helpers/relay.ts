import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAdapterRegistry } from '../../adapters/index.ts';
import type { AdapterRegistry } from '../../adapters/registry.ts';
import { createLogger, type Logger } from '../../lib/log.ts';
import type { OutputRegistry } from '../../relay/outputs/registry.ts';
import { loadConfig, startRelay, type RunningRelay } from '../../relay/app/main.ts';

export interface TestRelay extends RunningRelay {
  readonly baseUrl: string;
  readonly configFile: string;
  readonly logs: string[];
}

/**
 * Starts a relay in this process from relay.conf text, on 127.0.0.1 and a free port (HTTPPort 0 unless the text
 * sets one). Logs are kept in `logs` (and printed when RELAY_TEST_LOG is set).
 */
export async function startTestRelay(
  confText: string,
  options: { log?: Logger; adapters?: AdapterRegistry; outputs?: OutputRegistry } = {},
): Promise<TestRelay> {
  const dir = await mkdtemp(join(tmpdir(), 'relay-test-'));
  const configFile = join(dir, 'relay.conf');
  const globals = /^\s*HTTPPort\b/m.test(confText) ? '' : 'HTTPPort 0\n';
  await writeFile(configFile, `${globals}${confText}`);
  const logs: string[] = [];
  const log = options.log ?? createLogger('relay', (line) => {
    logs.push(line);
    if (process.env.RELAY_TEST_LOG) process.stderr.write(`${line}\n`);
  });
  const adapters = options.adapters ?? createAdapterRegistry();
  const { config } = loadConfig(configFile, adapters.schemes);
  const running = await startRelay(config, log, adapters, options.outputs);
  // The config's directory goes with the relay, so that a long test run does not fill the temporary directory.
  const stop = async (): Promise<void> => {
    await running.stop();
    await rm(dir, { recursive: true, force: true });
  };
  return { ...running, stop, baseUrl: `http://127.0.0.1:${running.port}`, configFile, logs };
}

/** A small config: the synthetic camera at 320x240 and one stream of each format. */
export function syntheticConfig(options: { rate?: number; camera?: string; extraCamera?: string; extraStream?: string } = {}): string {
  const rate = options.rate ?? 10;
  return `
<Camera test>
  Source testsrc://?size=320x240&rate=${rate}
  ${options.extraCamera ?? ''}
</Camera>
<Stream test.flv>
  Feed test
  VideoFrameRate ${rate}
  VideoSize 320x240
  VideoBitRate 300
  ${options.extraStream ?? ''}
</Stream>
<Stream test.m3u8>
  Feed test
  VideoFrameRate ${rate}
  VideoSize 320x240
  VideoBitRate 300
</Stream>
<Stream test.mjpg>
  Feed test
</Stream>
<Stream test.jpg>
  Feed test
</Stream>
<Stream stat.html>
  Format status
</Stream>
`;
}

/**
 * Starts a relay for a test file (as startTestRelay) and stops it at the test's teardown, then runs `stops` in order
 * (whatever else the file started: media folders, cameras).
 */
export async function startTestRelayFor(t: { teardown(fn: () => Promise<void>): void }, confText: string, ...stops: Array<() => Promise<unknown> | void>): Promise<TestRelay> {
  const relay = await startTestRelay(confText);
  t.teardown(async () => {
    await relay.stop();
    for (const stop of stops) await stop();
  });
  return relay;
}
