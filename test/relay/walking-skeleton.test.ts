import t from 'tap';
import { childFfmpegs, fetchBytes, ffprobe, openViewer, waitFor, type OpenViewer } from '../helpers/probe.ts';
import { startTestRelay, syntheticConfig } from '../helpers/relay.ts';

const relay = await startTestRelay(syntheticConfig({ rate: 10 }));
t.teardown(() => relay.stop());

t.test('FLV and HLS decode as video at the configured size and frame rate', async (t) => {
  for (const path of ['/test.flv', '/test.m3u8']) {
    const stream = await ffprobe(`${relay.baseUrl}${path}`, 3);
    t.equal(stream.codec_name, 'h264', `${path} codec`);
    t.equal(`${stream.width}x${stream.height}`, '320x240', `${path} size`);
    t.equal(stream.r_frame_rate, '10/1', `${path} frame rate`);
    t.ok(Number(stream.nb_read_frames) >= 20, `${path}: ${stream.nb_read_frames} frames decoded in 3 s of stream time`);
  }
});

t.test('MJPEG decodes at the configured size and arrives at the camera rate by the wall clock', async (t) => {
  const stream = await ffprobe(`${relay.baseUrl}/test.mjpg`, 1);
  t.equal(stream.codec_name, 'mjpeg');
  t.equal(`${stream.width}x${stream.height}`, '320x240');
  // multipart carries no timing (ffprobe assumes 25 fps), so the rate is counted in parts per wall-clock second.
  const viewer = await openViewer(`${relay.baseUrl}/test.mjpg`);
  let parts = 0;
  viewer.response.on('data', (chunk: Buffer) => (parts += chunk.toString('latin1').split('--relayframe').length - 1));
  await new Promise((resolve) => setTimeout(resolve, 3000));
  viewer.close();
  t.ok(parts >= 26 && parts <= 34, `${parts} parts in 3 s at 10 fps`);
});

t.test('/test.jpg is the latest frame as one JPEG', async (t) => {
  const { status, headers, body } = await fetchBytes(`${relay.baseUrl}/test.jpg`);
  t.equal(status, 200);
  t.equal(headers.get('content-type'), 'image/jpeg');
  t.same([...body.subarray(0, 2)], [0xff, 0xd8]);
  t.same([...body.subarray(-2)], [0xff, 0xd9]);
  // Snapshot traffic counts on the status page like any other stream's.
  const stat = (await (await fetch(`${relay.baseUrl}/stat.json`)).json()) as { streams: Array<{ name: string; bytesOut: number }> };
  t.ok(stat.streams.find((s) => s.name === 'test.jpg')!.bytesOut >= body.length, 'bytes out counted');
});

t.test('HLS: playlist briefly cacheable, segments immutable, under the path the playlist names', async (t) => {
  const playlist = await fetchBytes(`${relay.baseUrl}/test.m3u8`);
  t.equal(playlist.headers.get('content-type'), 'application/vnd.apple.mpegurl');
  t.match(playlist.headers.get('cache-control'), /^public, max-age=\d+$/);
  const segment = playlist.body.toString().split('\n').find((line) => line.endsWith('.ts'));
  t.match(segment, /^test\/[0-9a-z]+-\d+\.ts$/);
  const media = await fetchBytes(`${relay.baseUrl}/${segment}`);
  t.equal(media.status, 200);
  t.equal(media.headers.get('content-type'), 'video/mp2t');
  t.match(media.headers.get('cache-control'), /max-age=\d+, immutable/);
  t.equal(media.body[0], 0x47, 'an MPEG-TS sync byte');
});

t.test('unknown streams and hostile paths are 404, other methods 405', async (t) => {
  for (const path of ['/nope', '/test.flv/extra', '/test/../../etc/passwd', '/test/seg1.ts', `/${'a'.repeat(2000)}`]) {
    const { status } = await fetchBytes(`${relay.baseUrl}${path}`);
    t.ok(status === 404 || status === 400, `${path.slice(0, 40)} -> ${status}`);
  }
  const post = await fetch(`${relay.baseUrl}/test.flv`, { method: 'POST', body: 'x' });
  t.equal(post.status, 405);
});

t.test('a new FLV viewer gets the FLV header and codec configuration first', async (t) => {
  const viewer = await openViewer(`${relay.baseUrl}/test.flv`);
  await waitFor(() => viewer.bytes > 2000, 10_000, 'FLV bytes');
  viewer.close();
  const first = viewer.head;
  t.equal(first.toString('latin1', 0, 3), 'FLV');
  // After the 13-byte file header: a script tag (metadata, 18) then a video tag that is the AVC sequence header.
  t.equal(first[13], 18, 'metadata tag first');
  const metadataSize = first.readUIntBE(14, 3);
  const videoTag = 13 + 11 + metadataSize + 4;
  t.equal(first[videoTag], 9, 'then a video tag');
  t.equal(first[videoTag + 11], 0x17, 'AVC, keyframe');
  t.equal(first[videoTag + 11 + 1], 0, 'which is the AVC sequence header');
  const frameTag = videoTag + 11 + first.readUIntBE(videoTag + 1, 3) + 4;
  t.equal(first[frameTag + 11], 0x17, 'and the first frame is a keyframe');
});

t.test('twenty viewers of each stream: one camera, one encoder for FLV and HLS at equal settings', async (t) => {
  const viewers: OpenViewer[] = [];
  for (let i = 0; i < 20; i++) {
    for (const path of ['/test.flv', '/test.mjpg']) viewers.push(await openViewer(`${relay.baseUrl}${path}`));
  }
  const hls = await Promise.all(Array.from({ length: 20 }, () => fetchBytes(`${relay.baseUrl}/test.m3u8`)));
  t.ok(hls.every((response) => response.status === 200), 'twenty HLS playlist fetches');
  await waitFor(() => viewers.every((viewer) => viewer.bytes > 0), 10_000, 'every viewer to receive bytes');
  const ffmpegs = childFfmpegs();
  t.equal(ffmpegs.filter((cmd) => cmd.includes('lavfi')).length, 1, 'one synthetic camera');
  t.equal(ffmpegs.filter((cmd) => cmd.includes('libx264')).length, 1, 'one encoder for test.flv and test.m3u8');
  t.equal(ffmpegs.filter((cmd) => cmd.includes('-f hls')).length, 0, 'HLS is packaged in the relay: no ffmpeg writes HLS');
  t.equal(ffmpegs.length, 2, ffmpegs.join('\n'));
  const stat = (await (await fetch(`${relay.baseUrl}/stat.json`)).json()) as {
    streams: Array<{ name: string; viewers: number; encoder: string | null }>;
    encoders: Array<{ id: string; streams: string[] }>;
  };
  const encoderOf = (name: string) => stat.streams.find((s) => s.name === name)?.encoder;
  t.equal(encoderOf('test.flv'), encoderOf('test.m3u8'), '/stat.json shows the two streams share an encoder');
  t.same(stat.encoders.find((e) => e.id === encoderOf('test.flv'))?.streams, ['test.flv', 'test.m3u8']);
  t.equal(stat.streams.find((s) => s.name === 'test.flv')?.viewers, 20);
  t.equal(stat.streams.find((s) => s.name === 'test.mjpg')?.viewers, 20);
  for (const viewer of viewers) viewer.close();
  await waitFor(async () => {
    const now = (await (await fetch(`${relay.baseUrl}/stat.json`)).json()) as { streams: Array<{ viewers: number; format: string }> };
    return now.streams.filter((s) => s.format !== 'hls').every((s) => s.viewers === 0);
  }, 5_000, 'viewers to be gone after disconnecting');
  t.notOk(relay.logs.some((line) => / error /.test(line)), 'no error logged for viewers leaving');
});
