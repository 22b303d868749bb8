import t from 'tap';
import { opusPacketSamples } from '../../../media/rtp/opus.ts';
import { readSenderClock, TrackSync } from '../../../media/rtp/track-sync.ts';
import { makeOpusUnits } from '../../helpers/audio.ts';

/** A sender report of `ssrc` saying NTP `ntpMs` is RTP `rtp`, after a receiver report (a compound packet). */
function compound(ssrc: number, ntpMs: number, rtp: number): Buffer {
  const receiverReport = Buffer.alloc(8);
  receiverReport.set([0x80, 201, 0, 1]);
  receiverReport.writeUInt32BE(99, 4);
  const senderReport = Buffer.alloc(28);
  senderReport.set([0x80, 200, 0, 6]);
  senderReport.writeUInt32BE(ssrc, 4);
  senderReport.writeUInt32BE(Math.floor(ntpMs / 1000), 8);
  senderReport.writeUInt32BE(Math.round(((ntpMs % 1000) / 1000) * 2 ** 32), 12);
  senderReport.writeUInt32BE(rtp >>> 0, 16);
  return Buffer.concat([receiverReport, senderReport]);
}

t.test('sender reports: the one of the asked SSRC in a compound packet, nothing from a bad one', async (t) => {
  const clock = readSenderClock(compound(7, 3_900_000_000_250, 0xfffffff0), 7)!;
  t.ok(Math.abs(clock.ntpMs - 3_900_000_000_250) < 0.01, 'NTP time in ms');
  t.equal(clock.rtpTimestamp, 0xfffffff0);
  t.equal(readSenderClock(compound(7, 1000, 0), 8), undefined, 'another sender\'s');
  t.equal(readSenderClock(Buffer.from([0x80, 200, 0, 200, 1, 2]), 7), undefined, 'a length past the end');
  t.equal(readSenderClock(Buffer.alloc(0), 7), undefined);
});

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
  // Across the 32-bit wrap of the video's RTP clock.
  const wrapped = new TrackSync(48_000, 90_000);
  wrapped.noteReference(4, 1000, 0);
  wrapped.noteReferenceReport({ ntpMs: 5000, rtpTimestamp: 0xffffffff - 89_995 });
  wrapped.noteOwnReport({ ntpMs: 5000, rtpTimestamp: 100 });
  t.equal(wrapped.place(0, 100, 0), 0, 'a sound at the NTP time of the report, one second before the frame');
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
