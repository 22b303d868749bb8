import { readFileSync } from 'node:fs';
import t from 'tap';
import { ffprobe } from '../../helpers/probe.ts';
import { unusedPort } from '../../helpers/ports.ts';
import { startTestRelay } from '../../helpers/relay.ts';

t.test('ffprobe reads every video stream of the example config over RTSP, over TCP and over UDP', async (t) => {
  const rtspPort = await unusedPort();
  // The example's own config, on free ports: its fixed ones may be taken on a shared machine.
  const example = readFileSync(new URL('../../../relay.conf.example', import.meta.url), 'utf8')
    .replace(/^HTTPPort\s+\d+/m, 'HTTPPort 0')
    .replace(/^RTSPPort\s+\d+/m, `RTSPPort ${rtspPort}\nRTSPUDPPortRange 45000-45999`);
  const running = await startTestRelay(example);
  t.teardown(() => running.stop());
  const video = running.relay.config.streams.filter((stream) => stream.rtsp).map((stream) => stream.name);
  t.same(video, ['test.flv', 'test.m3u8', 'test.mjpg'], 'the example\'s video streams are all on RTSP');
  for (const transport of ['tcp', 'udp']) {
    for (const name of video) {
      const stream = await ffprobe(`rtsp://127.0.0.1:${rtspPort}/${name}`, 2, ['-rtsp_transport', transport]);
      t.equal(stream.codec_name, name.endsWith('.mjpg') ? 'mjpeg' : 'h264', `${name} over ${transport}`);
      t.same([stream.width, stream.height], [640, 480]);
      t.ok(Number(stream.nb_read_frames) >= 10, `${name} over ${transport}: ${stream.nb_read_frames} frames`);
    }
  }
});
