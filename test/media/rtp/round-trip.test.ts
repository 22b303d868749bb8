import t from 'tap';
import { buildSenderReport } from '../../../media/rtp/packet.ts';
import { ReceiverReporter } from '../../../media/rtp/rtcp.ts';
import { middleNtp, roundTripFromReports } from '../../../media/rtp/round-trip.ts';

/** A receiver report block about `ssrc` echoing `lastReport`, after `delayMs` held by the receiver. */
function receiverReport(ssrc: number, lastReport: number, delayMs: number, blocks = 1): Buffer {
  const report = Buffer.alloc(8 + 24 * blocks);
  report[0] = 0x80 | blocks;
  report[1] = 201;
  report.writeUInt16BE(1 + 6 * blocks, 2);
  report.writeUInt32BE(0x1234, 4);
  const at = 8 + 24 * (blocks - 1);
  report.writeUInt32BE(ssrc, at);
  report.writeUInt32BE(lastReport, at + 16);
  report.writeUInt32BE(Math.round((delayMs * 65536) / 1000), at + 20);
  return report;
}

t.test('the round trip is arrival minus the echoed sender report time minus the receiver\'s delay', async (t) => {
  const sentAt = 1_780_000_000_123;
  const rtt = roundTripFromReports(receiverReport(0xdeadbeef, middleNtp(sentAt), 200, 2), 0xdeadbeef, sentAt + 230);
  t.ok(Math.abs(rtt! - 30) < 0.1, `30 ms (${rtt} ms), from the block about the SSRC asked for`);
  t.equal(roundTripFromReports(receiverReport(0xdeadbeef, middleNtp(sentAt), 0), 0xcafe, sentAt + 10), undefined, 'another SSRC\'s block tells nothing');
  t.equal(roundTripFromReports(receiverReport(0xdeadbeef, 0, 0), 0xdeadbeef, sentAt), undefined, 'no sender report echoed yet');
  t.equal(roundTripFromReports(receiverReport(0xdeadbeef, middleNtp(sentAt), 500), 0xdeadbeef, sentAt + 100), undefined, 'a delay longer than the time since: no measurement');
});

t.test('a receiver report written by the relay\'s own reporter round-trips with its sender report', async (t) => {
  const reporter = new ReceiverReporter(90000);
  reporter.onRtp({ ssrc: 77, sequence: 1, timestamp: 0, payloadType: 96, marker: false, payload: Buffer.alloc(0) }, 1000);
  const now = Date.now();
  reporter.onRtcp(buildSenderReport({ ssrc: 77, cname: 'x', wallClockMs: now, rtpTimestamp: 0, packets: 1, octets: 1 }), now + 5);
  const rtt = roundTripFromReports(reporter.buildReport(now + 45), 77, now + 50);
  t.ok(Math.abs(rtt! - 10) < 1, `10 ms (${rtt?.toFixed(2)} ms)`);
});

t.test('malformed and truncated RTCP reads as no measurement, never a throw', async (t) => {
  const good = receiverReport(5, middleNtp(Date.now()), 0);
  for (const bad of [Buffer.alloc(0), Buffer.from('garbage, not rtcp'), good.subarray(0, 20), Buffer.concat([Buffer.from([0x9f, 201, 0xff, 0xff]), good])]) {
    t.equal(roundTripFromReports(bad, 5, Date.now()), undefined);
  }
});
