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
