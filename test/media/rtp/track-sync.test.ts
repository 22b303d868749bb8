// Guards the sender-report alignment of a source's sound to its picture (RTSP and push), wrapping RTP clocks included.
import t from 'tap';
import { opusPacketSamples } from '../../../media/rtp/opus.ts';
import { TrackSync } from '../../../media/rtp/track-sync.ts';
import { makeOpusUnits } from '../../helpers/audio.ts';

t.test('audio on the video\'s timeline: by arrival until both tracks have reports, then by the reports', async (t) => {
  const sync = new TrackSync(48_000, 90_000);
  t.equal(sync.place(0, 1000, 5), undefined, 'nothing to place against before a video frame');
  // Video frame at RTP 90000 is 400 ms on the timeline, arrived at 1000 ms; audio's first unit came 30 ms later.
  sync.noteReference(90_000, 400, 1000);
  t.equal(sync.place(0, 48_000, 1030), 430, 'arrival: 30 ms after the frame');
  t.equal(sync.place(20, 48_960, 1050), 450, 'then by its own clock');
  t.notOk(sync.synced);
  // Reports: video RTP 90000 was NTP 10000 ms; audio RTP 48000 was NTP 9900 ms. The sound is 100 ms before the frame.
  sync.noteReferenceReport({ ntpMs: 10_000, rtpTimestamp: 90_000 });
  sync.noteOwnReport({ ntpMs: 9_900, rtpTimestamp: 48_000 });
  t.ok(sync.synced);
  t.equal(sync.place(40, 49_920, 1070), undefined, 'a unit the reports put before the last one sent is dropped');
  t.equal(sync.place(200, 57_600, 1230), 500, 'then by the reports: 200 ms after a sound 100 ms before the frame');
  // A later report that moves the sound by no more than 20 ms is report jitter: the offset stays.
  sync.noteOwnReport({ ntpMs: 9_910, rtpTimestamp: 48_000 });
  t.equal(sync.place(220, 58_560, 1250), 520, 'a report 10 ms off leaves the offset alone');
  sync.noteOwnReport({ ntpMs: 9_950, rtpTimestamp: 48_000 });
  t.equal(sync.place(240, 59_520, 1270), 590, 'a report 50 ms off moves it');
  // Across the 32-bit wrap of the video's RTP clock.
  const wrapped = new TrackSync(48_000, 90_000);
  wrapped.noteReference(4, 1000, 0);
  wrapped.noteReferenceReport({ ntpMs: 5000, rtpTimestamp: 0xffffffff - 89_995 });
  wrapped.noteOwnReport({ ntpMs: 5000, rtpTimestamp: 100 });
  t.equal(wrapped.place(0, 100, 0), 0, 'a sound at the NTP time of the report, one second before the frame');
});

t.test('sound goes where the sender reports put it against the picture, not where it arrived', async (t) => {
  const shifts: number[] = [];
  const sync = new TrackSync(48_000, 90_000, (shiftMs) => shifts.push(shiftMs));
  // The picture's first frame, RTP 1000, is at 20 ms on the timeline; the sound's RTP clock is about to wrap.
  sync.noteReference(1000, 20, 0);
  t.equal(sync.place(0, 0xffffff00, 5), 25, 'arrival: 5 ms after the frame');
  sync.noteOwnReport({ ntpMs: 5_000_000, rtpTimestamp: (0xffffff00 + 48 * 50) >>> 0 });
  t.equal(sync.place(20, (0xffffff00 + 48 * 20) >>> 0, 25), 45, 'arrival times until the picture has a report too');
  t.same(shifts, [], 'not aligned yet');
  sync.noteReferenceReport({ ntpMs: 5_000_000, rtpTimestamp: 1000 + 90 * 100 });
  // At the same wall-clock instant the picture is 100 ms into its track and the sound 50 ms (across an RTP wrap).
  t.equal(sync.place(40, (0xffffff00 + 48 * 40) >>> 0, 45), 20 + 100 - 50 + 40);
  t.same(shifts, [70 - 25], 'told once how far the reports moved the sound from its arrival times');
  sync.noteReference(1000 + 90 * 1000, 1020, 1000);
  t.equal(sync.place(60, (0xffffff00 + 48 * 60) >>> 0, 2000), 130, 'later frames do not move it');
  t.same(shifts, [45], 'still told once');
});

t.test('sound before the picture\'s first frame goes by arrival against the timeline\'s start, if one is known', async (t) => {
  const sync = new TrackSync(8000, 90_000);
  t.equal(sync.place(0, 0, 100), undefined, 'no frame and no start: nothing to place it against');
  sync.noteStart(40, 100);
  sync.noteStart(999, 500);
  t.equal(sync.place(0, 160, 130), 70, 'the first start counts: 30 ms after the timeline stood at 40 ms');
  sync.noteReference(0, 60, 150);
  t.equal(sync.place(20, 320, 400), 90, 'a frame later does not move it: by its own clock from there');
});

t.test('Opus packets say how many samples they hold', async (t) => {
  const units = await makeOpusUnits(1);
  t.ok(units.length > 10);
  t.ok(units.every((unit) => opusPacketSamples(unit.data) === 960), 'libopus\' default 20 ms packets: 960 samples at 48 kHz');
  t.equal(opusPacketSamples(Buffer.from([(16 << 3) | 0])), 120, 'CELT 2.5 ms');
  t.equal(opusPacketSamples(Buffer.from([(3 << 3) | 1])), 2 * 2880, 'two SILK 60 ms frames');
  t.equal(opusPacketSamples(Buffer.from([(13 << 3) | 3, 3])), 3 * 960, 'code 3: the count byte');
  t.equal(opusPacketSamples(Buffer.from([3])), 0, 'code 3 without its count byte');
  t.equal(opusPacketSamples(Buffer.alloc(0)), 0);
});

// Guards a publisher's restart (FollowSSRC): the old SSRC's sender report placed the new SSRC's random RTP base anywhere.
t.test('a restarted sender: its new timestamps go by arrival until its new report, never behind the sound already sent', async (t) => {
  const sync = new TrackSync(48_000, 90_000);
  sync.noteReference(90_000, 400, 1000);
  sync.noteReferenceReport({ ntpMs: 10_000, rtpTimestamp: 90_000 });
  sync.noteOwnReport({ ntpMs: 10_000, rtpTimestamp: 48_000 });
  t.equal(sync.place(0, 48_000, 1000), 400, 'by the reports before the restart');
  // The sound's sender restarts: new SSRC, timestamps from a random base, units counted from 0 again, 2 s later.
  sync.restartOwn();
  t.notOk(sync.synced, 'the old report no longer counts');
  sync.noteReference(90_000 + 90 * 2000, 2400, 3000);
  t.equal(sync.place(0, 7_777_777, 3010), 2410, 'by arrival: 10 ms after the latest frame');
  sync.noteOwnReport({ ntpMs: 12_050, rtpTimestamp: 7_777_777 });
  t.ok(sync.synced);
  t.equal(sync.place(20, 7_777_777 + 960, 3030), 2470, 'then by its new report against the picture\'s: 50 ms after the frame\'s wall clock, plus 20 ms');
  // The picture's sender restarts too: until its first frame nothing places the sound, then arrival does.
  sync.restartReference();
  t.notOk(sync.synced, 'the picture\'s old report no longer counts');
  t.equal(sync.place(40, 7_777_777 + 1920, 3050), undefined, 'no frame of the new picture yet');
  sync.noteReference(12_345, 2500, 3100);
  t.equal(sync.place(60, 7_777_777 + 2880, 3120), 2520, 'by arrival against the new picture\'s frame');
  t.equal(sync.place(80, 7_777_777 + 3840, 3140), 2540, 'then by its own clock');
});
