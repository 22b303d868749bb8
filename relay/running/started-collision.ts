import type { ConfigProblem } from '../../conf/parse.ts';
import type { RelayConfig, StreamConfig } from '../../conf/types.ts';

/**
 * Why `next` cannot be applied while the streams started at run time hold names it configures, or undefined: such a
 * block would be skipped while its Access applied to the started stream, so the reload is refused instead.
 */
export function startedNameCollision(next: RelayConfig, startedCameras: Iterable<string>, startedStreams: readonly StreamConfig[]): ConfigProblem | undefined {
  const held = new Map<string, string>();
  for (const camera of startedCameras) held.set(camera.toLowerCase(), camera);
  for (const stream of startedStreams) held.set(stream.name.toLowerCase(), stream.feed ?? stream.name);
  const blocks = [...next.cameras, ...next.streams, ...next.redirects].filter((block) => held.has(block.name.toLowerCase()));
  const first = blocks.sort((a, b) => a.line - b.line)[0];
  if (!first) return undefined;
  const owners = [...new Set(blocks.map((block) => held.get(block.name.toLowerCase())!))];
  return {
    file: next.file,
    line: first.line,
    message: `${blocks.map((block) => block.name).join(', ')}: held by stream(s) started through /api/vod/ (${owners.join(', ')}); terminate them or rename the block(s); the running config is kept`,
  };
}
