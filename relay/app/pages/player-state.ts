import type { StatusSnapshot } from '../status.ts';

/** What a viewer's player may know about its stream: a state and a sentence, never errors, hosts or counters. */
export interface ViewerStreamState {
  /** live | starting | retrying | idle | waiting | stopped | encoder (the camera is live, the stream's encoder is not). */
  readonly state: string;
  readonly text: string;
}

/**
 * The state of stream `name` for its viewers, from the status snapshot; undefined for an unknown stream.
 * Camera problems come first: a stream cannot play while its camera is down, whatever its encoder does.
 */
export function viewerStreamState(snapshot: StatusSnapshot, name: string): ViewerStreamState | undefined {
  const stream = snapshot.streams.find((candidate) => candidate.name === name);
  if (!stream) return undefined;
  const camera = snapshot.cameras.find((candidate) => candidate.name === stream.camera);
  const state = camera?.state ?? 'stopped';
  const retryIn = camera?.nextAttemptInSeconds;
  switch (state) {
    case 'live':
      break;
    case 'retrying':
      return { state, text: retryIn === null || retryIn === undefined ? 'camera unavailable, retrying…' : `camera unavailable, retrying in ${retryIn} s` };
    case 'starting':
      return { state, text: 'camera starting…' };
    case 'idle':
      return { state, text: 'camera idle, starting…' };
    case 'waiting':
      return { state, text: 'waiting for the camera…' };
    default:
      return { state: 'stopped', text: 'camera stopped' };
  }
  const encoder = stream.ffmpeg?.state;
  if (encoder && encoder !== 'live') return { state: 'encoder', text: encoder === 'retrying' ? 'encoder restarting…' : 'encoder starting…' };
  return { state: 'live', text: 'live' };
}
