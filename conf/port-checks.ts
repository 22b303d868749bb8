import type { DirectiveValues, Problems } from './parse.ts';

/** The listening ports relay.conf sets, by directive; 0 means "not listening" for all but HTTPPort. */
const PORT_DIRECTIVES = ['HTTPPort', 'HTTPSPort', 'RTSPPort'] as const;

/**
 * Two listeners on one port would fail only at start (EADDRINUSE) or, with port 0, never at all; the check names both
 * directives instead. Port 0 asks the system for a free port, so equal zeros do not collide.
 */
export function checkPortClashes(global: DirectiveValues, ports: Record<(typeof PORT_DIRECTIVES)[number], number>, problems: Problems): void {
  const seen = new Map<number, string>();
  for (const directive of PORT_DIRECTIVES) {
    const port = ports[directive];
    if (port === 0) continue;
    const first = seen.get(port);
    if (first === undefined) {
      seen.set(port, directive);
      continue;
    }
    const line = global.get(directive)?.line ?? global.get(first)?.line ?? 0;
    problems.error(line, `${directive}: ${port} is also the ${first}; each listener needs a port of its own`);
  }
}
