import { chmod, readFile, writeFile, mkdtemp } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import t from 'tap';
import type { StatusSnapshot } from '../../../../relay/app/status.ts';
import { fetchBytes, openViewer, waitFor, type OpenViewer } from '../../../helpers/probe.ts';
import { startTestRelay, syntheticConfig } from '../../../helpers/relay.ts';
import { FakeRtspServer } from '../../../adapters/rtsp/fake-server.ts';

const relay = await startTestRelay(syntheticConfig({ rate: 10 }));
t.teardown(() => relay.stop());

const stat = async (base = relay.baseUrl): Promise<StatusSnapshot> => (await (await fetch(`${base}/stat.json`)).json()) as StatusSnapshot;
const metricsText = async (base = relay.baseUrl): Promise<string> => (await fetch(`${base}/metrics`)).text();

/** The value of one Prometheus sample, matched by name and a label substring. */
function sample(text: string, name: string, labels: string): number {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${name}{`) && candidate.includes(labels));
  if (!line) throw new Error(`no ${name} sample with ${labels}`);
  return Number(line.slice(line.lastIndexOf(' ') + 1));
}

t.test('/stat.json and /metrics match the traffic of N FLV viewers', async (t) => {
  const N = 3;
  const viewers: OpenViewer[] = [];
  t.teardown(() => viewers.forEach((viewer) => viewer.close()));
  for (let i = 0; i < N; i++) viewers.push(await openViewer(`${relay.baseUrl}/test.flv`));
  await waitFor(() => viewers.every((viewer) => viewer.bytes > 20_000), 15_000, 'every viewer receiving video');
  // Let the sampler take two readings while the viewers are connected, so the measured rates cover them.
  await new Promise((resolve) => setTimeout(resolve, 4500));

  const received = viewers.reduce((sum, viewer) => sum + viewer.bytes, 0);
  const snapshot = await stat();
  const flv = snapshot.streams.find((stream) => stream.name === 'test.flv')!;
  t.equal(flv.viewers, N, 'stream viewers');
  t.equal(snapshot.server.viewers, N, 'server viewers (nothing else is watching)');
  t.ok(flv.bytesOut >= received, `bytes out ${flv.bytesOut} >= ${received} received by the clients`);
  t.equal(flv.viewerList.length, N);
  for (const viewer of flv.viewerList) t.equal(viewer.address, '127.0.0.1');
  const sent = flv.viewerList.reduce((sum, viewer) => sum + viewer.bytesSent, 0);
  t.ok(sent >= received, `viewers' bytes sent ${sent} >= received ${received}`);
  t.ok(flv.viewerList.every((viewer) => viewer.kbps !== null && viewer.kbps > 50), `viewer rates ${flv.viewerList.map((v) => v.kbps)}`);

  const camera = snapshot.cameras.find((candidate) => candidate.name === 'test')!;
  t.equal(camera.state, 'live');
  t.equal(camera.host, 'testsrc://');
  t.equal(camera.notice, null, 'nothing to say about a readable picture');
  t.equal(camera.viewers, N, 'camera viewers: all of its streams together');
  t.ok(camera.inputFps !== null && camera.inputFps >= 7 && camera.inputFps <= 13, `input ${camera.inputFps} fps at 10 fps`);
  t.ok(camera.lastFrameAgeSeconds !== null && camera.lastFrameAgeSeconds < 1.5, `last frame ${camera.lastFrameAgeSeconds} s ago`);
  t.ok(flv.measured.frameRate !== null && flv.measured.frameRate >= 7 && flv.measured.frameRate <= 13, `FLV ${flv.measured.frameRate} fps`);
  t.ok(flv.measured.outKbps !== null && flv.measured.outKbps > N * 50, `out ${flv.measured.outKbps} kbit/s`);
  t.ok(flv.measured.encodedKbps !== null && flv.measured.encodedKbps > 50, `encoded ${flv.measured.encodedKbps} kbit/s`);
  const pid = flv.ffmpeg?.pid;
  t.ok(pid && existsSync(`/proc/${pid}`), `ffmpeg pid ${pid} is a running process`);
  t.ok(flv.ffmpeg?.cpuPercent !== null && flv.ffmpeg!.cpuPercent! > 0 && flv.ffmpeg!.cpuPercent! < 200, `ffmpeg CPU ${flv.ffmpeg?.cpuPercent} %`);

  const text = await metricsText();
  const labels = 'stream="test.flv"';
  t.equal(sample(text, 'relay_viewers', labels), N, 'relay_viewers');
  t.ok(sample(text, 'relay_stream_bytes_out_total', labels) >= received, 'relay_stream_bytes_out_total >= bytes received');
  t.ok(sample(text, 'relay_stream_frames_out_total', labels) > 20, 'frames out');
  t.equal(sample(text, 'relay_stream_frames_dropped_total', labels), flv.drops, 'frames dropped as on /stat.json');
  t.ok(sample(text, 'relay_camera_frames_in_total', 'camera="test"') >= camera.framesIn, 'frames in');
  t.ok(sample(text, 'relay_camera_bytes_in_total', 'camera="test"') >= camera.bytesIn, 'bytes in');
  t.equal(sample(text, 'relay_camera_up', 'camera="test"'), 1);
  t.equal(sample(text, 'relay_ffmpeg_restarts_total', labels), 0);
  t.match(text, /^relay_refused_viewers_total 0$/m);
  t.match(text, /^process_cpu_user_seconds_total \d/m, 'process metrics');
  t.match(text, /^nodejs_eventloop_lag_seconds \d/m, 'Node.js metrics');

  viewers.forEach((viewer) => viewer.close());
  await waitFor(async () => (await stat()).server.viewers === 0, 5000, 'viewers gone after they disconnect');
});

t.test('refused viewers are counted on /stat.json and /metrics', async (t) => {
  // Guards that a 503 from MaxClients shows up as refused, per stream and in total.
  const limited = await startTestRelay(syntheticConfig({ rate: 5, extraStream: 'MaxClients 1' }));
  t.teardown(() => limited.stop());
  const first = await openViewer(`${limited.baseUrl}/test.flv`);
  t.teardown(() => first.close());
  await waitFor(() => first.bytes > 0, 15_000, 'the first viewer receiving');
  const second = await fetchBytes(`${limited.baseUrl}/test.flv`);
  t.equal(second.status, 503);
  const snapshot = await stat(limited.baseUrl);
  t.equal(snapshot.server.refused, 1);
  t.equal(snapshot.streams.find((stream) => stream.name === 'test.flv')!.refused, 1);
  const text = await metricsText(limited.baseUrl);
  t.equal(sample(text, 'relay_stream_refused_viewers_total', 'stream="test.flv"'), 1);
  t.match(text, /^relay_refused_viewers_total 1$/m);
  t.match(await metricsText(), /^relay_refused_viewers_total 0$/m, 'the other relay in this process keeps its own registry');
});

t.test('hostile ffmpeg stderr is escaped on /stat.html and kept verbatim in /stat.json', async (t) => {
  // Guards HTML injection through ffmpeg's error output, which the relay shows on the status page.
  const dir = await mkdtemp(join(tmpdir(), 'relay-fake-ffmpeg-'));
  const fake = join(dir, 'ffmpeg');
  const hostile = `<script>alert("stderr")</script> & <img src=x onerror=alert(2)>`;
  // Real ffmpeg for everything but the FLV transcode, which fails at once with hostile text on stderr.
  await writeFile(fake, `#!/bin/sh\ncase " $* " in *" -f flv "*) echo '${hostile}' >&2; exit 1;; esac\nexec /usr/bin/ffmpeg "$@"\n`);
  await chmod(fake, 0o755);
  const broken = await startTestRelay(`FFmpegPath ${fake}\n${syntheticConfig({ rate: 5 })}`);
  t.teardown(() => broken.stop());
  await waitFor(async () => (await stat(broken.baseUrl)).streams.some((s) => s.name === 'test.flv' && s.ffmpeg?.lastError), 15_000, 'the FLV ffmpeg failing');

  const snapshot = await stat(broken.baseUrl);
  const ffmpeg = snapshot.streams.find((stream) => stream.name === 'test.flv')!.ffmpeg!;
  t.ok(ffmpeg.stderrTail.includes(hostile), 'JSON carries the text as it was');
  t.match(ffmpeg.lastError?.message, /exited with code 1/);
  const page = await (await fetch(`${broken.baseUrl}/stat.html`)).text();
  t.notOk(page.includes('<script>alert'), 'no script element from stderr');
  t.notOk(page.includes('<img src=x'), 'no img element from stderr');
  t.ok(page.includes('&lt;script&gt;alert(&quot;stderr&quot;)&lt;/script&gt; &amp; &lt;img src=x onerror=alert(2)&gt;'), 'escaped text shown');
  const text = await metricsText(broken.baseUrl);
  t.ok(sample(text, 'relay_ffmpeg_restarts_total', 'stream="test.flv"') >= 1, 'restarts counted');
  t.equal(sample(text, 'relay_ffmpeg_up', 'stream="test.flv"'), 0);
});

t.test('camera credentials, paths and queries never reach the status pages', async (t) => {
  // Guards invariant 5: a camera URL's user, password and token-bearing path stay out of /stat.json and /stat.html.
  const secret = await startTestRelay(`
<Camera door>
  Source http://viewer:hunter2@127.0.0.1:9/secret-path/video.cgi?token=s3cr3t
  ConnectTimeout 1
</Camera>
<Stream door.mjpg>
  Feed door
</Stream>
<Stream stat.html>
  Format status
</Stream>`);
  t.teardown(() => secret.stop());
  await waitFor(async () => (await stat(secret.baseUrl)).cameras[0]?.lastError !== null, 10_000, 'the unreachable camera failing');
  const json = await (await fetch(`${secret.baseUrl}/stat.json`)).text();
  const html = await (await fetch(`${secret.baseUrl}/stat.html`)).text();
  const index = await (await fetch(`${secret.baseUrl}/`)).text();
  const metrics = await metricsText(secret.baseUrl);
  for (const [name, body] of Object.entries({ json, html, index, metrics })) {
    for (const leak of ['hunter2', 's3cr3t', 'secret-path', 'viewer:']) t.notOk(body.includes(leak), `${name} does not show ${leak}`);
  }
  t.equal((JSON.parse(json) as StatusSnapshot).cameras[0]?.host, 'http://127.0.0.1:9');
  t.match((JSON.parse(json) as StatusSnapshot).cameras[0]?.stateText, /^(retrying in \d+ s|starting)$/);
});

t.test('a camera whose SPS cannot be read says why on /stat.json and /stat.html', async (t) => {
  // Guards the reason for an unreadable SPS (picture size unknown, VideoCodec copy refusing it) being shown nowhere.
  const camera = new FakeRtspServer(); // its SPS is eight filler bytes: too short to read
  await camera.listen();
  t.teardown(() => camera.close());
  const garbled = await startTestRelay(`<Camera garbled>\n  Source ${camera.url}\n</Camera>\n<Stream stat.html>\n  Format status\n</Stream>\n`);
  t.teardown(() => garbled.stop());
  await waitFor(async () => (await stat(garbled.baseUrl)).cameras[0]?.notice != null, 10_000, 'the camera\'s notice');
  const notice = (await stat(garbled.baseUrl)).cameras[0]!.notice!;
  t.match(notice, /^unreadable SPS: SPS is truncated: picture size unknown; VideoCodec copy/);
  const page = await (await fetch(`${garbled.baseUrl}/stat.html`)).text();
  t.ok(page.includes('<span data-f="notice" data-fmt="note">unreadable SPS: SPS is truncated: picture size unknown;'), 'shown on the page');
});

t.test('player pages exist for HLS and FLV streams; assets come from the relay', async (t) => {
  const player = await fetchBytes(`${relay.baseUrl}/player/test.m3u8`);
  t.equal(player.status, 200);
  const page = player.body.toString();
  t.match(page, /<video id="video" data-src="\/test\.m3u8" data-low-latency="0" data-whep="\/test\.m3u8\/whep" data-ice-servers="\[\]" controls playsinline autoplay muted>/, 'autoplays muted by default, WebRTC first');
  t.match(page, /<button type="button" class="player-unmute" id="player-unmute" hidden>unmute<\/button>/, 'an unmute control, hidden until the media has sound');
  t.match(page, /data-state-url="\/player\/test\.m3u8\/state"/);
  t.match(page, /\/player\/test\.m3u8\?embed&quot;/, 'iframe snippet');
  t.match(page, /&lt;img src=&quot;http:\/\/127\.0\.0\.1:\d+\/test\.mjpg&quot;/, 'MJPEG snippet for the camera\'s mpjpeg stream');
  t.notMatch(page, /https?:\/\/(?!127\.0\.0\.1)[a-z]/i, 'no third-party URL (no CDN)');
  const optOut = (await fetchBytes(`${relay.baseUrl}/player/test.m3u8?autoplay=0`)).body.toString();
  t.match(optOut, /<video id="video" [^>]*playsinline>/, '?autoplay=0: neither autoplay nor muted');
  t.match(optOut, /id="player-unmute" hidden>/);
  const sound = (await fetchBytes(`${relay.baseUrl}/player/test.m3u8?muted=0`)).body.toString();
  t.match(sound, /playsinline autoplay>/, '?muted=0: autoplay with sound asked for');
  const embed = (await fetchBytes(`${relay.baseUrl}/player/test.m3u8?embed`)).body.toString();
  t.notMatch(embed, /Embed this stream/, 'embed mode shows only the player');
  const flv = (await fetchBytes(`${relay.baseUrl}/player/test.flv`)).body.toString();
  t.match(flv, /<video id="video" data-src="\/test\.flv" data-fallback="\/test\.m3u8" data-whep="\/test\.flv\/whep" data-ice-servers="\[\]" controls playsinline autoplay muted>/, 'FLV page, WebRTC first, HLS fallback');
  t.match(flv, /<script src="\/assets\/mpegts\.js" defer>/);
  t.notMatch(flv, /https?:\/\/(?!127\.0\.0\.1)[a-z]/i, 'no third-party URL (no CDN)');
  for (const path of ['/player/test.mjpg', '/player/test.jpg', '/player/nope.m3u8', '/player/nope.flv/state', '/player/stat.html',
    '/player/..%2Ftest.flv/state', '/player/test.flv/state/x', `/player/${'a'.repeat(200)}.flv/state`, '/assets/nope.js', '/assets/..%2Fpackage.json']) {
    t.equal((await fetchBytes(`${relay.baseUrl}${path}`)).status, 404, path);
  }
  const require = createRequire(import.meta.url);
  for (const [asset, file] of [['hls.min.js', 'hls.js/dist/hls.min.js'], ['mpegts.js', 'mpegts.js/dist/mpegts.js']] as const) {
    const served = await fetchBytes(`${relay.baseUrl}/assets/${asset}`);
    t.equal(served.status, 200);
    t.match(served.headers.get('content-type'), /javascript/);
    t.ok(served.body.equals(await readFile(require.resolve(file))), `${asset} is the copy in node_modules`);
  }
  for (const asset of ['player.js', 'player-shell.js', 'flv-player.js', 'status.js', 'index.js', 'relay.css']) {
    t.equal((await fetchBytes(`${relay.baseUrl}/assets/${asset}`)).status, 200, asset);
  }
});
