import t from 'tap';
import { parseRtpPacket, RtpClock, RtpReorderer, sequenceDelta } from '../../../media/rtp/rtp.ts';
import { rtpBytes, rtpPacket } from '../../adapters/rtsp/rtp-builder.ts';

t.test('parses the header, CSRCs, extension and padding', async (t) => {
  const plain = parseRtpPacket(rtpBytes({ payloadType: 96, sequence: 65535, timestamp: 0xfffffff0, marker: true, ssrc: 7 }, Buffer.from('abc')));
  t.match(plain, { payloadType: 96, sequence: 65535, timestamp: 0xfffffff0, marker: true, ssrc: 7 });
  t.same(plain.payload, Buffer.from('abc'));
  const fancy = rtpBytes({ payloadType: 26, sequence: 1, timestamp: 2 }, Buffer.concat([
    Buffer.alloc(4, 9), // one CSRC
    Buffer.from([0xbe, 0xde, 0, 1, 1, 2, 3, 4]), // extension of one word
    Buffer.from('data'),
    Buffer.from([0, 0, 3]), // three bytes of padding
  ]));
  fancy[0] = 0x80 | 0x20 | 0x10 | 1;
  t.same(parseRtpPacket(fancy).payload, Buffer.from('data'));
});

t.test('truncated or inconsistent headers are PROTOCOL errors', async (t) => {
  const bad = [Buffer.alloc(11), Buffer.from([0x40, ...Buffer.alloc(11)]), Buffer.from([0x8f, ...Buffer.alloc(11)]), Buffer.from([0x90, ...Buffer.alloc(13)]), Buffer.from([0xa0, ...Buffer.alloc(10), 200])];
  for (const packet of bad) t.throws(() => parseRtpPacket(packet), { name: 'ProtocolError', code: 'PROTOCOL' });
});

t.test('sequence numbers compare across the wrap', async (t) => {
  t.equal(sequenceDelta(65535, 0), 1);
  t.equal(sequenceDelta(0, 65535), -1);
  t.equal(sequenceDelta(100, 90), -10);
});

function sequences(reorderer: RtpReorderer, input: number[]): Array<number | string> {
  return input.flatMap((sequence) => reorderer.push(rtpPacket(sequence, 0, Buffer.alloc(0)))).map((item) => ('lost' in item ? `lost ${item.lost}` : item.packet.sequence));
}

t.test('reorders within the window, drops duplicates and late packets, reports gaps', async (t) => {
  t.same(sequences(new RtpReorderer(), [65534, 0, 65535, 1, 1, 0, 2]), [65534, 65535, 0, 1, 2]);
  const reorderer = new RtpReorderer(4);
  // 3 never comes: after the window fills the reorderer moves on and says so.
  t.same(sequences(reorderer, [1, 2, 4, 5, 6, 7, 8]), [1, 2, 'lost 1', 4, 5, 6, 7, 8]);
  t.same(sequences(reorderer, [3, 9]), [9], 'a packet that comes after its gap was given up is dropped');
  t.equal(reorderer.duplicates, 1);
});

t.test('a gap older than maxDelayMs is given up even while the window has room', async (t) => {
  const reorderer = new RtpReorderer(16, 100);
  const push = (sequence: number, now: number): Array<number | string> =>
    reorderer.push(rtpPacket(sequence, 0, Buffer.alloc(0)), now).map((item) => ('lost' in item ? `lost ${item.lost}` : item.packet.sequence));
  t.same([...push(1, 0), ...push(3, 10), ...push(4, 50)], [1], '3 and 4 wait for 2');
  t.same(push(5, 111), ['lost 1', 3, 4, 5], 'then the gap is skipped');
});

t.test('a far jump in sequence numbers (a restarted sender) is followed, not held', async (t) => {
  const reorderer = new RtpReorderer(4);
  t.same(sequences(reorderer, [10, 11, 5000, 5001]), [10, 11, 'lost 1', 5000, 5001]);
  t.same(sequences(reorderer, [20, 21]), ['lost 1', 20, 21]);
});

t.test('the clock turns 90 kHz timestamps into monotonic ms across the 32-bit wrap', async (t) => {
  const clock = new RtpClock(90_000);
  t.equal(clock.toMs(0xffffffff - 8999), 0);
  t.equal(clock.toMs(0), 100);
  t.equal(clock.toMs(9000 * 2), 300);
  t.equal(clock.toMs(9000), 300, 'a step back does not move time backwards');
});
