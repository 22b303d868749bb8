import t from 'tap';
import { ffprobe } from '../../helpers/probe.ts';
import { startTestEncodedSource } from '../../helpers/encoded-source.ts';
import { h264RtpPayloader, jpegRtpPayloader } from '../../../relay/rtsp/rtp-payloaders.ts';
import { countingSource, LIMITS, playOverTcp, startJpegFeed, startServer } from './fixtures.ts';

const encoded = startTestEncodedSource({ size: '320x240', rate: 25, gop: 25 });
const jpegs = startJpegFeed({ size: '320x240', rate: 10 });
const video = countingSource(encoded.hub);
const server = await startServer();
server.mount('cam.flv', h264RtpPayloader(video), LIMITS);
server.mount('cam.mjpg', jpegRtpPayloader(jpegs, 0, (reason) => server.countSkipped('cam.mjpg', reason)), LIMITS);
t.teardown(async () => {
  await server.close();
  encoded.stop();
  jpegs.stop();
});

for (const transport of ['tcp', 'udp']) {
  t.test(`ffprobe reads the H.264 stream over ${transport}`, async (t) => {
    const stream = await ffprobe(`rtsp://127.0.0.1:${server.port}/cam.flv`, 2, ['-rtsp_transport', transport]);
    t.equal(stream.codec_name, 'h264');
    t.equal(stream.width, 320);
    t.equal(stream.height, 240);
    t.ok(Number(stream.nb_read_frames) >= 10, `frames read: ${stream.nb_read_frames}`);
  });
  t.test(`ffprobe reads the JPEG stream over ${transport}`, async (t) => {
    const stream = await ffprobe(`rtsp://127.0.0.1:${server.port}/cam.mjpg`, 2, ['-rtsp_transport', transport]);
    t.equal(stream.codec_name, 'mjpeg');
    t.equal(stream.width, 320);
    t.equal(stream.height, 240);
    t.ok(Number(stream.nb_read_frames) >= 5, `frames read: ${stream.nb_read_frames}`);
  });
}

t.test('after the readers leave, nobody holds the encoder or the camera, and the counters saw them', async (t) => {
  t.equal(server.readerCount(), 0);
  t.equal(video.holders, 0);
  t.equal(jpegs.holders, 0);
  const h264 = server.stats('cam.flv')!;
  t.equal(h264.readersServed, 2);
  t.ok(h264.bytesOut > 50_000, `bytes out ${h264.bytesOut}`);
  t.equal(server.stats('cam.mjpg')!.skippedFrames, 0);
});

t.test('camera JPEGs that RTP/JPEG cannot carry are skipped and counted, not sent broken', async (t) => {
  const optimised = startJpegFeed({ size: '320x240', rate: 10, huffman: 'optimal' });
  t.teardown(() => optimised.stop());
  server.mount('odd.mjpg', jpegRtpPayloader(optimised, 0, (reason) => server.countSkipped('odd.mjpg', reason)), LIMITS);
  t.teardown(() => server.unmount('odd.mjpg'));
  const { client, play } = await playOverTcp(server.port, 'odd.mjpg');
  t.teardown(() => client.close());
  t.equal(play.status, 200);
  await new Promise((resolve) => setTimeout(resolve, 1500));
  t.ok(server.stats('odd.mjpg')!.skippedFrames >= 5, `skipped: ${server.stats('odd.mjpg')!.skippedFrames}`);
  t.equal(client.packets.filter((packet) => packet.rtp).length, 0, 'no RTP for them');
});
