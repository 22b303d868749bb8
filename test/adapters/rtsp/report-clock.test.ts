// Guards the sender-report alignment of an RTSP camera's sound to its picture (wrapping RTP clocks included).
import t from 'tap';
import { ReportedClock, SessionClock } from '../../../adapters/rtsp/report-clock.ts';

const report = (ntpMs: number, rtpTimestamp: number) => ({ middleNtp: 0, receivedAtMs: 0, ntpMs, rtpTimestamp });

t.test('sound goes where the sender reports put it against the picture, not where it arrived', async (t) => {
  const session = new SessionClock();
  const video = new ReportedClock(90_000);
  const audio = new ReportedClock(48_000);
  session.setVideo(20, video);
  video.onFrame(1000, 0);
  audio.onFrame(0xffffff00, 0);
  audio.onReport(report(5_000_000, (0xffffff00 + 48 * 50) >>> 0));
  t.equal(session.offsetOf(audio), undefined, 'arrival times until the picture has a report too');
  video.onReport(report(5_000_000, 1000 + 90 * 100));
  // At the same wall-clock instant the picture is 100 ms into its track and the sound 50 ms (across an RTP wrap).
  t.equal(session.offsetOf(audio), 20 + 100 - 50);
  video.onFrame(1000 + 90 * 1000, 1000);
  t.equal(session.offsetOf(audio), 70, 'later frames do not move it');
});
