import t from 'tap';
import { findSenderReport, ReceiverReporter } from '../../../media/rtp/rtcp.ts';
import { rtpPacket } from '../../adapters/rtsp/rtp-builder.ts';

function senderReport(ntpSeconds: number, ntpFraction: number, rtpTimestamp = 0): Buffer {
  const sr = Buffer.alloc(28);
  sr[0] = 0x80;
  sr[1] = 200;
  sr.writeUInt16BE(6, 2);
  sr.writeUInt32BE(0xabcd, 4);
  sr.writeUInt32BE(ntpSeconds, 8);
  sr.writeUInt32BE(ntpFraction, 12);
  sr.writeUInt32BE(rtpTimestamp, 16);
  return sr;
}

t.test('a receiver report counts loss, the highest sequence, and echoes the last sender report', async (t) => {
  const reporter = new ReceiverReporter(90_000);
  for (const sequence of [65530, 65531, 65533, 65535, 0, 1]) reporter.onRtp(rtpPacket(sequence, sequence * 10, Buffer.alloc(0)), sequence);
  const found = reporter.onRtcp(Buffer.concat([Buffer.from([0x81, 202, 0, 1, 0, 0, 0, 0]), senderReport(0x11223344, 0x80000000, 0xfffffff0)]), 1000);
  t.match(found, { ntpMs: 0x11223344 * 1000 + 500, rtpTimestamp: 0xfffffff0 }, 'the sender\'s wall clock against its RTP clock');
  const report = reporter.buildReport(1500);
  t.equal(report[0], 0x81, 'version 2, one report block');
  t.equal(report[1], 201, 'RR');
  t.equal(report.readUInt16BE(2), 7, 'length in words minus one');
  t.equal(report.readUInt32BE(4), reporter.ssrc);
  t.equal(report.readUInt32BE(8), 0x1234, 'reports on the camera source');
  t.equal(report[12], Math.floor((2 << 8) / 8), 'fraction lost: 2 of 8');
  t.equal(report.readUIntBE(13, 3), 2, 'cumulative lost');
  t.equal(report.readUInt32BE(16), 0x10001, 'extended highest sequence after one wrap');
  t.equal(report.readUInt32BE(24), 0x33448000, 'LSR: the middle of the NTP time');
  t.equal(report.readUInt32BE(28), 32768, 'DLSR: half a second in 1/65536 s');
  t.equal(report[33], 202, 'followed by an SDES');
  t.equal(report.length % 4, 0);
});

t.test('before any packet a report has no block; malformed RTCP is ignored', async (t) => {
  t.equal(new ReceiverReporter(90_000).buildReport(0)[0], 0x80);
  t.equal(findSenderReport(Buffer.from([0x80, 200, 0, 50]), 0), undefined);
  t.equal(findSenderReport(Buffer.alloc(0), 0), undefined);
});

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
  const report = findSenderReport(compound(7, 3_900_000_000_250, 0xfffffff0), 0, 7)!;
  t.ok(Math.abs(report.ntpMs - 3_900_000_000_250) < 0.01, 'NTP time in ms');
  t.equal(report.rtpTimestamp, 0xfffffff0);
  t.equal(findSenderReport(compound(7, 1000, 0), 0, 8), undefined, 'another sender\'s');
  t.ok(findSenderReport(compound(7, 1000, 0), 0), 'any sender\'s without an SSRC asked');
  t.equal(findSenderReport(Buffer.concat([compound(8, 1000, 5), compound(0xfffffff7, 2000, 6)]), 0, 0xfffffff7)?.rtpTimestamp, 6, 'the asked one after another sender\'s');
  t.equal(findSenderReport(Buffer.from([0x80, 200, 0, 200, 1, 2]), 0, 7), undefined, 'a length past the end');
  t.equal(findSenderReport(Buffer.alloc(0), 0, 7), undefined);
  const reporter = new ReceiverReporter(90_000);
  t.equal(reporter.onRtcp(compound(7, 1000, 0), 0, 8), undefined, 'the reporter ignores another sender\'s report');
  t.equal(reporter.onRtcp(compound(7, 1000, 0), 0, 7)?.ntpMs, 1000);
});
