import t from 'tap';
import { parseSdp, resolveControl } from '../../../media/rtsp/sdp.ts';
import { pickVideoMedia } from '../../../adapters/rtsp/track.ts';

/** What GStreamer's RTSP server sends for an H.264 stream (captured from gst-rtsp-server 1.22, trimmed). */
const GSTREAMER_H264 = [
  'v=0', 'o=- 1188340656180883 1 IN IP4 127.0.0.1', 's=Session streamed with GStreamer', 'i=rtsp-server', 't=0 0',
  'a=tool:GStreamer', 'a=type:broadcast', 'a=control:*', 'a=range:npt=now-',
  'm=video 0 RTP/AVP 96', 'c=IN IP4 0.0.0.0', 'b=AS:2000', 'a=rtpmap:96 H264/90000',
  'a=fmtp:96 packetization-mode=1;sprop-parameter-sets=Z2QADKzZQUH7ARAAAAMAEAAAAwFA8UKZYA==,aOvjyyLA;profile-level-id=64000C',
  'a=control:stream=0', 'a=ts-refclk:local', 'a=mediaclk:sender', '',
].join('\r\n');

t.test('parses a GStreamer H.264 description', async (t) => {
  const sdp = parseSdp(GSTREAMER_H264);
  t.equal(sdp.control, '*');
  t.equal(sdp.media.length, 1);
  const video = pickVideoMedia(sdp.media);
  t.match(video, { type: 'video', protocol: 'RTP/AVP', payloadTypes: [96], control: 'stream=0', encoding: 'H264', clockRate: 90_000 });
  t.equal(video.fmtp.get('packetization-mode'), '1');
  t.equal(video.fmtp.get('sprop-parameter-sets'), 'Z2QADKzZQUH7ARAAAAMAEAAAAwFA8UKZYA==,aOvjyyLA');
});

t.test('static payload type 26 is JPEG without an rtpmap; audio is skipped for the first supported video', async (t) => {
  const sdp = parseSdp('v=0\nm=audio 0 RTP/AVP 0\na=control:a\nm=video 0 RTP/AVP 97\na=rtpmap:97 H265/90000\nm=video 0 RTP/AVP 26\na=control:rtsp://cam/v\n');
  t.equal(sdp.media.length, 3);
  t.match(pickVideoMedia(sdp.media), { encoding: 'JPEG', clockRate: 90_000, control: 'rtsp://cam/v' });
});

t.test('no usable video is a PROTOCOL error naming what was offered', async (t) => {
  t.throws(() => pickVideoMedia(parseSdp('v=0\nm=audio 0 RTP/AVP 0\n').media), { code: 'PROTOCOL', message: /no video track/ });
  t.throws(() => pickVideoMedia(parseSdp('v=0\nm=video 0 RTP/AVP 97\na=rtpmap:97 H265/90000\n').media), { code: 'PROTOCOL', message: /H265/ });
});

t.test('malformed descriptions are PROTOCOL errors', async (t) => {
  const bad = ['', 'hello', 'v=0\nm=video\n', 'v=0\nm=video 0 RTP/AVP 96\na=rtpmap:96\n', 'v=0\nm=video 0 RTP/AVP 96\na=rtpmap:96 H264/0\n', 'v=0\nthis is not sdp\n', `v=0\n${'m=video 0 RTP/AVP 96\n'.repeat(33)}`, `v=0\n${'a=x\n'.repeat(1100)}`];
  for (const text of bad) t.throws(() => parseSdp(text), { name: 'ProtocolError', code: 'PROTOCOL' }, JSON.stringify(text.slice(0, 30)));
});

t.test('control URLs resolve against the content base', async (t) => {
  t.equal(resolveControl('rtsp://cam:554/live/', 'stream=0'), 'rtsp://cam:554/live/stream=0');
  t.equal(resolveControl('rtsp://cam:554/live', 'trackID=1'), 'rtsp://cam:554/live/trackID=1');
  t.equal(resolveControl('rtsp://cam/live/', 'rtsp://other/x'), 'rtsp://other/x');
  t.equal(resolveControl('rtsp://cam/live/', '*'), 'rtsp://cam/live/');
  t.equal(resolveControl('rtsp://cam/live/', undefined), 'rtsp://cam/live/');
});
