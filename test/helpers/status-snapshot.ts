import type { StatusSnapshot } from '../../relay/app/status.ts';

/** A status snapshot with just the fields the history reads. */
export function snapshotOf(values: {
  viewers: number;
  outKbps: number | null;
  cameras?: Array<{ name: string; inputFps: number | null; viewers: number }>;
  streams?: Array<{ name: string; viewers: number; outKbps: number | null; originRequests?: Record<string, number> }>;
}): StatusSnapshot {
  return {
    server: { viewers: values.viewers, measuredOutKbps: values.outKbps },
    cameras: values.cameras ?? [],
    streams: (values.streams ?? []).map((stream) => ({
      name: stream.name, viewers: stream.viewers, measured: { outKbps: stream.outKbps }, originRequests: stream.originRequests ?? null,
    })),
  } as unknown as StatusSnapshot;
}
