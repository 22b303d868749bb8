import t from 'tap';
import { ProtocolError } from '../../../media/errors.ts';
import { RtpAudioReceiver, type PlacedAudioUnit } from '../../../media/rtp/audio-receiver.ts';
import type { RtpAudioUnit } from '../../../media/rtp/audio-depacketizer.ts';
import { g711Depacketizer, g711Track } from '../../../media/rtp/g711.ts';
import { ReceiverReporter } from '../../../media/rtp/rtcp.ts';
import { RtpReorderer } from '../../../media/rtp/rtp.ts';
import { TrackSync } from '../../../media/rtp/track-sync.ts';
import { rtpBytes, rtpPacket } from '../../adapters/rtsp/rtp-builder.ts';

/** A PCMA receiver of SSRC 0x1234 at payload type 8, its sound placed from a picture frame at 1000 ms. */
function pcmaReceiver(options: { check?: (unit: RtpAudioUnit) => RtpAudioUnit[]; onStopped?: (error: Error) => void } = {}) {
  const units: PlacedAudioUnit[] = [];
  const sync = new TrackSync(8000, 90_000);
  sync.noteReference(0, 1000, performance.now());
  const receiver = new RtpAudioReceiver({
    depacketizer: g711Depacketizer(g711Track('pcma')),
    sync,
    accepts: (packet) => packet.payloadType === 8 && packet.ssrc === 0x1234,
    onUnit: (unit) => units.push(unit),
    ...options,
  });
  return { receiver, units };
}

const pcma = (sequence: number, fields: { ssrc?: number; payloadType?: number } = {}): Buffer =>
  rtpBytes({ payloadType: fields.payloadType ?? 8, sequence, timestamp: sequence * 160, ssrc: fields.ssrc }, Buffer.alloc(160, 0xd5));

t.test('the receive loop: others\' packets refused, loss counted, frames 20 ms apart on the picture\'s timeline', async (t) => {
  const { receiver, units } = pcmaReceiver();
  for (const sequence of [0, 1, 2]) receiver.onRtp(pcma(sequence));
  receiver.onRtp(Buffer.from('not RTP'));
  receiver.onRtp(pcma(3, { ssrc: 99 }));
  receiver.onRtp(pcma(3, { payloadType: 0 }));
  for (const sequence of [4, 5, ...Array.from({ length: 16 }, (_, i) => 6 + i)]) receiver.onRtp(pcma(sequence)); // 3 never comes
  t.match(receiver.counters, { packets: 21, refused: 3, lost: 1, frames: 21 });
  // Times are placed from a fractional performance.now(): their differences are exact to well under a microsecond, not bit for bit.
  const sinceFirst = (unit: PlacedAudioUnit): number => Math.round((unit.pts - units[0]!.pts) * 1000) / 1000;
  t.same(units.slice(1, 3).map(sinceFirst), [20, 40], 'RTP time kept between frames');
  t.equal(sinceFirst(units[3]!), 80, 'the lost frame leaves its gap');
  t.ok(units.every((unit) => unit.dts === unit.pts && unit.track.codec === 'pcma'));
  const block = receiver.reporter.buildReport(0).subarray(8, 32);
  t.equal(block.readUInt32BE(0), 0x1234, 'receiver reports on the sender');
  t.equal(block.readUIntBE(5, 3), 1, 'one packet lost, counted as the packets came');
  t.equal(block.readUInt32BE(8), 21, 'the highest sequence');
});

t.test('a check that refuses the frames stops the sound, once, and nothing more is taken', async (t) => {
  const stopped: Error[] = [];
  const { receiver, units } = pcmaReceiver({
    check: (unit) => {
      if (unit.rtpTimestamp >= 320) throw new ProtocolError('the frames contradict the config');
      return [unit];
    },
    onStopped: (error) => stopped.push(error),
  });
  for (const sequence of [0, 1, 2, 3, 4]) receiver.onRtp(pcma(sequence));
  t.equal(units.length, 2, 'the frames before the refusal went on');
  t.same(stopped.map((error) => error.message), ['the frames contradict the config']);
  t.equal(receiver.counters.packets, 3, 'no packet taken after the stop');
});

t.test('a reorderer made to count gives the receiver report onRtp would', async (t) => {
  const counted = new ReceiverReporter(90_000);
  const byHand = new ReceiverReporter(90_000);
  const reorderer = RtpReorderer.counting(counted.reception);
  for (const [at, sequence] of [65530, 65531, 65533, 65535, 0, 1, 1, 0].entries()) {
    const packet = rtpPacket(sequence, sequence * 10 + at * 7, Buffer.alloc(0));
    reorderer.push(packet, at * 13);
    byHand.onRtp(packet, at * 13);
  }
  t.same(counted.buildReport(200).subarray(8, 32), byHand.buildReport(200).subarray(8, 32), 'the same report block, duplicates and all');
});
