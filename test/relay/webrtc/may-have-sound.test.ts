// Guards: the first WebRTC viewer of an on-demand camera was answered video only (the camera had not started, so no sound yet).
import t from 'tap';
import { opusTrack } from '../../../media/rtp/opus.ts';
import type { SupervisedState } from '../../../relay/core/supervisor.ts';
import { mayHaveSound } from '../../../relay/webrtc/edge.ts';

const NOW = 1_000_000;
const feed = (state: SupervisedState, liveSince: number | undefined, heard = false, announced = false) => ({
  audioTrack: heard ? opusTrack(2) : undefined,
  announcedAudioTrack: announced ? opusTrack(2) : undefined,
  status: { state, liveSince, lastError: undefined, nextAttemptAt: undefined, restarts: 0 },
});

t.test('a WHEP answer offers sound unless the camera is known to be silent', async (t) => {
  t.ok(mayHaveSound(feed('idle', undefined), NOW), 'an on-demand camera not running yet may have sound');
  t.ok(mayHaveSound(feed('starting', undefined), NOW), 'a camera starting may have sound');
  t.ok(mayHaveSound(feed('live', NOW - 1000), NOW), 'a camera live for a second without sound yet may have some');
  t.notOk(mayHaveSound(feed('live', NOW - 6000), NOW), 'a camera live for 6 s without any sound is silent');
  t.ok(mayHaveSound(feed('live', NOW - 60_000, true), NOW), 'a camera that sent sound has it');
  t.ok(mayHaveSound(feed('live', NOW - 60_000, false, true), NOW), 'a camera that announced sound has it');
});
