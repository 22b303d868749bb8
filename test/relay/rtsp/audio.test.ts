import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import t from 'tap';
import { decodeAudio } from '../../helpers/audio.ts';
import { unusedPort } from '../../helpers/ports.ts';
import { waitFor } from '../../helpers/probe.ts';
import { startTestRelay } from '../../helpers/relay.ts';
import { playOverTcp, TestRtspClient } from './fixtures.ts';

const run = promisify(execFile);
const rtspPort = await unusedPort();
const running = await startTestRelay(`RTSPPort ${rtspPort}
RTSPUDPPortRange 44000-44999
<Camera tone>
  Source testsrc://?size=320x240&rate=10&audio=aac
</Camera>
<Stream tone.flv>
  Feed tone
  VideoFrameRate 10
  VideoSize 320x240
  VideoBitRate 300
</Stream>
<Stream silent.flv>
  Feed tone
  VideoFrameRate 10
  VideoSize 320x240
  VideoBitRate 300
  Audio no
</Stream>
`);
t.teardown(() => running.stop());
const rtsp = (path: string): string => `rtsp://127.0.0.1:${rtspPort}/${path}`;

t.test('the SDP offers the sound as trackID=1 (AAC mpeg4-generic); a stream with Audio no stays video only', async (t) => {
  const client = await TestRtspClient.connect(rtspPort);
  t.teardown(() => client.close());
  const sdp = (await client.request('DESCRIBE', rtsp('tone.flv'))).body.toString();
  t.match(sdp, /m=video 0 RTP\/AVP 96[\s\S]*a=control:trackID=0\r\nm=audio 0 RTP\/AVP 97\r\na=rtpmap:97 mpeg4-generic\/\d+\/1\r\na=fmtp:97 [^\r]*config=[0-9a-f]+\r\na=control:trackID=1\r\n$/);
  const silent = (await client.request('DESCRIBE', rtsp('silent.flv'))).body.toString();
  t.match(silent, /a=control:trackID=0\r\n$/);
  t.notMatch(silent, /m=audio/);
});

t.test('ffmpeg reads both tracks over TCP: AAC with the 1 kHz tone, starting within 45 ms of the picture', async (t) => {
  // A new camera's sound can begin after its first picture: once the sound kept spans a keyframe group (2 s), a
  // reader's picture never starts where there is no sound yet.
  const sound = running.rtsp!.server.mounts.get('tone.flv')!.audio!;
  await waitFor(() => {
    const kept = sound.framesSince(-Infinity);
    return kept.length > 0 && kept.at(-1)!.timeMs - kept[0]!.timeMs >= 2500;
  }, 15_000, 'the sound kept to span a keyframe group');
  const { stdout } = await run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-rtsp_transport', 'tcp', '-i', rtsp('tone.flv'), '-t', '3',
    '-map', '0', '-c', 'copy', '-f', 'mpegts', '-'], { encoding: 'buffer', maxBuffer: 32 * 1024 * 1024, timeout: 30_000 });
  const decoded = await decodeAudio(stdout, 'rtsp.ts');
  t.equal(decoded.codec, 'aac');
  t.ok(decoded.duration >= 2, `${decoded.duration} s of sound`);
  t.ok(decoded.toneDb > -40, `tone at ${decoded.toneDb} dBFS`);
  const offsetMs = Math.abs(decoded.startTime - decoded.videoStartTime!) * 1000;
  t.ok(offsetMs <= 45, `audio starts at ${decoded.startTime} s, the picture at ${decoded.videoStartTime} s`);
});

t.test('ffprobe reads the AAC track over UDP too, from the instant PLAY announced', async (t) => {
  const { stdout } = await run('ffprobe', ['-v', 'error', '-rtsp_transport', 'udp', '-count_packets', '-read_intervals', '%+2',
    '-show_entries', 'stream=codec_type,codec_name,start_time,nb_read_packets', '-of', 'json', rtsp('tone.flv')], { timeout: 30_000 });
  const streams = (JSON.parse(stdout) as { streams: Array<{ codec_type: string; codec_name: string; start_time: string; nb_read_packets: string }> }).streams;
  t.same(streams.map((stream) => `${stream.codec_type}/${stream.codec_name}`), ['video/h264', 'audio/aac']);
  const audio = streams[1]!;
  t.ok(Number(audio.nb_read_packets) >= 40, `${audio.nb_read_packets} AAC packets`);
  // Its start is counted from the RTP-Info instant (the picture's first frame; ffprobe puts the picture one frame on).
  t.ok(Number(audio.start_time) <= 0.15, `sound starts ${audio.start_time} s after the announced instant`);
});

t.test("GStreamer's rtspsrc negotiates both tracks and decodes the sound", async (t) => {
  const output = await new Promise<string>((resolve) => {
    const child = spawn('gst-launch-1.0', ['-v', 'rtspsrc', `location=${rtsp('tone.flv')}`, 'protocols=tcp', 'latency=0', 'name=src',
      'src.', '!', 'queue', '!', 'rtph264depay', '!', 'h264parse', '!', 'avdec_h264', '!', 'fakesink',
      'src.', '!', 'queue', '!', 'rtpmp4gdepay', '!', 'aacparse', '!', 'avdec_aac', '!', 'fakesink', 'name=sound', 'silent=false'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (text += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 4000);
    child.on('close', () => {
      clearTimeout(timer);
      resolve(text);
    });
  });
  t.notMatch(output, /^ERROR/m);
  t.match(output, /media=\(string\)video[^\n]*encoding-name=\(string\)H264/, 'the picture track');
  t.match(output, /media=\(string\)audio[^\n]*encoding-name=\(string\)MPEG4-GENERIC/, 'the sound track');
  t.match(output, /GstFakeSink:sound: last-message = chain/, 'decoded sound reaches the sound sink');
});

t.test('a reader that sets up both tracks gets them on one timeline; one that sets up only trackID=0 gets only video', async (t) => {
  const client = await TestRtspClient.connect(rtspPort);
  t.teardown(() => client.close());
  await client.request('DESCRIBE', rtsp('tone.flv'));
  const video = await client.request('SETUP', rtsp('tone.flv/trackID=0'), { Transport: 'RTP/AVP/TCP;unicast;interleaved=0-1' });
  const session = video.headers.get('Session')!.split(';')[0]!;
  const audio = await client.request('SETUP', rtsp('tone.flv/trackID=1'), { Transport: 'RTP/AVP/TCP;unicast;interleaved=2-3', Session: session });
  t.equal(audio.status, 200);
  t.match(audio.headers.get('Transport'), /interleaved=2-3/);
  const play = await client.request('PLAY', rtsp('tone.flv'), { Session: session });
  const info = [...(play.headers.get('RTP-Info') ?? '').matchAll(/url=[^;]*\/(trackID=\d);seq=\d+;rtptime=(\d+)/g)].map((m) => [m[1], Number(m[2])] as const);
  t.same(info.map(([track]) => track), ['trackID=0', 'trackID=1'], 'RTP-Info names both tracks');
  await client.until(() => client.packets.filter((p) => p.channel === 2).length >= 20 && client.packets.some((p) => p.channel === 0), 10_000, 'both tracks');
  const sampleRate = Number(/mpeg4-generic\/(\d+)/.exec((await client.request('DESCRIBE', rtsp('tone.flv'))).body.toString())![1]);
  const firstVideo = client.packets.find((p) => p.channel === 0)!.rtp!;
  const firstAudio = client.packets.find((p) => p.channel === 2)!.rtp!;
  t.equal(firstAudio.payloadType, 97);
  const videoMs = (((firstVideo.timestamp - info[0]![1]) | 0) * 1000) / 90_000;
  const audioMs = (((firstAudio.timestamp - info[1]![1]) | 0) * 1000) / sampleRate;
  t.ok(Math.abs(videoMs - audioMs) <= 45, `first picture at ${videoMs.toFixed(1)} ms, first sound at ${audioMs.toFixed(1)} ms of the RTP-Info instant`);
  // Sender reports of both tracks map their RTP times to one wall clock: the same camera instant on both.
  await client.until(() => client.packets.some((p) => p.channel === 1) && client.packets.some((p) => p.channel === 3), 12_000, 'sender reports of both tracks');
  const report = (channel: number): { wallMs: number; rtp: number } => {
    const bytes = client.packets.find((p) => p.channel === channel && p.bytes[1] === 200)!.bytes;
    return { wallMs: (bytes.readUInt32BE(8) + bytes.readUInt32BE(12) / 2 ** 32) * 1000, rtp: bytes.readUInt32BE(16) };
  };
  const [videoReport, audioReport] = [report(1), report(3)];
  const videoAt = videoReport.wallMs - (((videoReport.rtp - info[0]![1]) | 0) * 1000) / 90_000;
  const audioAt = audioReport.wallMs - (((audioReport.rtp - info[1]![1]) | 0) * 1000) / sampleRate;
  t.ok(Math.abs(videoAt - audioAt) <= 10, `the RTP-Info instant by the picture's report and by the sound's differ by ${Math.abs(videoAt - audioAt).toFixed(1)} ms`);

  const only = await playOverTcp(rtspPort, 'tone.flv');
  t.teardown(() => only.client.close());
  await only.client.until(() => only.client.packets.filter((p) => p.rtp?.marker).length >= 10, 10_000, 'ten pictures');
  t.same(only.client.packets.filter((p) => p.channel >= 2).length, 0, 'nothing on the sound\'s channels');
  t.same([...new Set(only.client.packets.filter((p) => p.rtp).map((p) => p.rtp!.payloadType))], [96], 'video only');
  t.notMatch(only.play.headers.get('RTP-Info'), /trackID=1/);
});

t.test('bad SETUPs of the sound track get a clear status and leave the server serving', async (t) => {
  const client = await TestRtspClient.connect(rtspPort);
  t.teardown(() => client.close());
  const tcp = { Transport: 'RTP/AVP/TCP;unicast' };
  t.equal((await client.request('SETUP', rtsp('tone.flv/trackID=2'), tcp)).status, 404, 'no third track');
  t.equal((await client.request('SETUP', rtsp('silent.flv/trackID=1'), tcp)).status, 404, 'a stream with Audio no has no sound track');
  t.equal((await client.request('SETUP', rtsp('tone.flv/trackID=1'), tcp)).status, 459, 'sound alone, without the picture\'s session');
  const video = await client.request('SETUP', rtsp('tone.flv/trackID=0'), tcp);
  const session = video.headers.get('Session')!.split(';')[0]!;
  t.equal((await client.request('SETUP', rtsp('tone.flv/trackID=1'), { Transport: 'RTP/AVP;unicast;client_port=5000-5001', Session: session })).status, 461, 'sound on another transport than the picture');
  t.equal((await client.request('SETUP', rtsp('tone.flv/trackID=1'), { ...tcp, Session: session })).status, 200);
  t.equal((await client.request('SETUP', rtsp('tone.flv/trackID=1'), { ...tcp, Session: session })).status, 455, 'the sound set up twice');
  t.equal((await client.request('PLAY', rtsp('tone.flv'), { Session: session })).status, 200);
  t.same(running.logs.filter((line) => / (error|warn) /.test(line) && /rtsp/i.test(line)), []);
});
