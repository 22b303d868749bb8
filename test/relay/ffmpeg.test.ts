import { chmod, mkdtemp, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import type { StreamConfig } from '../../conf/types.ts';
import { encoderArgs, encoderSettings, settingsKey } from '../../relay/encoders/ffmpeg-args.ts';
import { FfmpegNotFoundError, locateFfmpeg } from '../../relay/encoders/ffmpeg-locate.ts';
import type { HlsOutput } from '../../relay/outputs/hls.ts';
import { ffprobe, waitFor } from '../helpers/probe.ts';
import { startTestRelay } from '../helpers/relay.ts';

const stream: StreamConfig = {
  name: 'lobby.flv', line: 1, format: 'flv', feed: 'lobby', videoFrameRate: 4, videoSize: { width: 320, height: 240 },
  videoBitRate: 256, videoQMin: undefined, videoQMax: undefined, videoGopSize: 0, videoCodec: 'libx264', maxClients: 0,
  hlsSegmentSeconds: 2, hlsListSize: 6, lowLatency: false, viewerBudgetBytes: 1 << 20, viewerHardLimitBytes: 8 << 20, viewerWriteTimeoutMs: 20_000,
  rtsp: true,
  webSocket: true,
  webrtc: false,
  audio: true,
};
// Frames go in as Matroska with their source timestamps, kept on the output (-copyts): no wall-clock stamping, whatever the camera's codec.
const input = ['-hide_banner', '-nostats', '-loglevel', 'error', '-probesize', '32768', '-analyzeduration', '0', '-copyts',
  '-f', 'matroska', '-i', 'pipe:0'];
const flvOut = ['-f', 'flv', '-flvflags', 'no_duration_filesize', '-flush_packets', '1', 'pipe:1'];

t.test('an encoder: scale, rate without duplicates, bit rate, keyframes every 2 s, FLV out', async (t) => {
  t.same(encoderArgs(encoderSettings(stream)), [
    ...input,
    '-an', '-vf', 'scale=320:240', '-r', '4', '-fps_mode', 'vfr',
    '-c:v', 'libx264', '-preset', 'veryfast', '-tune', 'zerolatency', '-pix_fmt', 'yuv420p', '-x264-params', 'force-cfr=0',
    '-b:v', '256k', '-maxrate', '256k', '-bufsize', '512k', '-force_key_frames', 'expr:gte(t,n_forced*2)',
    ...flvOut,
  ]);
});

t.test('an ffmpeg without -fps_mode (the packaged 2018 build) gets -vsync', async (t) => {
  const args = encoderArgs(encoderSettings(stream), { fpsMode: false });
  t.same(args.slice(args.indexOf('-r'), args.indexOf('-r') + 4), ['-r', '4', '-vsync', 'vfr']);
  t.notOk(args.includes('-fps_mode'));
});

t.test('quantizer bounds and a fixed GOP replace the time-based keyframes; with no VideoFrameRate the camera\'s ms times are kept', async (t) => {
  const args = encoderArgs(encoderSettings({ ...stream, videoQMin: 10, videoQMax: 40, videoGopSize: 8, videoSize: undefined, videoFrameRate: 0 }));
  t.same(args, [
    ...input,
    '-an', '-enc_time_base', '1:1000', '-c:v', 'libx264', '-preset', 'veryfast', '-tune', 'zerolatency', '-pix_fmt', 'yuv420p',
    '-x264-params', 'force-cfr=0', '-b:v', '256k', '-maxrate', '256k', '-bufsize', '512k', '-qmin', '10', '-qmax', '40',
    '-g', '8', '-keyint_min', '8', '-sc_threshold', '0',
    ...flvOut,
  ]);
});

t.test('streams with equal video settings share one encoder, whatever their format; different settings do not', async (t) => {
  const flv = encoderSettings(stream);
  const hls = encoderSettings({ ...stream, name: 'lobby.m3u8', format: 'hls', hlsListSize: 3 });
  t.equal(settingsKey(flv), settingsKey(hls), 'FLV and HLS at 2 s keyframes: one encoder');
  t.not(settingsKey(flv), settingsKey(encoderSettings({ ...stream, videoBitRate: 257 })), 'another bit rate: another encoder');
  t.not(settingsKey(hls), settingsKey(encoderSettings({ ...stream, format: 'hls', hlsSegmentSeconds: 1 })), 'HLS keyframes follow its segments');
  t.equal(encoderSettings({ ...stream, videoCodec: 'copy', videoBitRate: 9 }).codec, 'copy');
  t.equal(settingsKey(encoderSettings({ ...stream, videoCodec: 'copy' })), settingsKey(encoderSettings({ ...stream, videoCodec: 'copy', videoSize: undefined })),
    'copy ignores encoding settings');
});

t.test('an HLS stream\'s encoder puts keyframes on segment boundaries; the relay packages HLS itself', async (t) => {
  const hls = { ...stream, name: 'lobby.m3u8', format: 'hls' as const, hlsSegmentSeconds: 1.5, hlsListSize: 4 };
  const args = encoderArgs(encoderSettings(hls));
  t.same(args.slice(args.indexOf('-force_key_frames')), ['-force_key_frames', 'expr:gte(t,n_forced*1.5)', ...flvOut]);
  t.notOk(args.includes('hls'), 'no ffmpeg HLS muxer');
});

t.test('ffmpeg discovery: FFmpegPath first, then PATH, then the npm-packaged binary', async (t) => {
  await t.rejects(locateFfmpeg('/nonexistent/ffmpeg'), FfmpegNotFoundError);
  const configured = await locateFfmpeg('/usr/bin/ffmpeg');
  t.same([configured.origin, configured.features.fpsMode], ['config', true]);
  const onPath = await locateFfmpeg(undefined);
  t.equal(onPath.origin, 'PATH');
  const packaged = await locateFfmpeg(undefined, false);
  t.equal(packaged.origin, '@ffmpeg-installer/ffmpeg');
  t.equal(packaged.path, (createRequire(import.meta.url)('@ffmpeg-installer/ffmpeg') as { path: string }).path);
  t.equal(packaged.features.fpsMode, false, 'the packaged 2018 build has no -fps_mode');
});

// Guards the README's first command on a machine without ffmpeg: the packaged fallback must transcode too.
t.test('the packaged ffmpeg runs the synthetic camera and the FLV transcode', async (t) => {
  const packaged = await locateFfmpeg(undefined, false);
  const relay = await startTestRelay(`FFmpegPath ${packaged.path}
<Camera test>\n Source testsrc://?size=320x240&rate=10\n</Camera>
<Stream test.flv>\n Feed test\n VideoFrameRate 5\n VideoBitRate 200\n</Stream>\n`);
  t.teardown(() => relay.stop());
  const probed = await ffprobe(`${relay.baseUrl}/test.flv`, 2);
  t.equal(`${probed.codec_name} ${probed.width}x${probed.height} ${probed.r_frame_rate}`, 'h264 320x240 5/1');
});

// Guards the HLS start signal: an HLS stream's encoder that never produces anything "failed to start"; it did not "die".
t.test('an HLS stream whose encoder cannot start is reported as failed to start', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'relay-fake-ffmpeg-'));
  const script = join(dir, 'ffmpeg');
  await writeFile(script, '#!/bin/sh\ncase "$*" in *"pipe:0"*) echo "encoder unavailable" >&2; exit 1;; esac\nexec ffmpeg "$@"\n');
  await chmod(script, 0o755);
  const relay = await startTestRelay(`FFmpegPath ${script}
<Camera test>\n Source testsrc://?size=160x120&rate=5\n</Camera>
<Stream test.m3u8>\n Feed test\n VideoBitRate 100\n</Stream>\n`);
  t.teardown(() => relay.stop());
  const output = relay.relay.outputs.get('test.m3u8') as HlsOutput;
  const supervisor = output.video.supervisor!;
  await waitFor(() => supervisor.lastError !== undefined, 10_000, 'the failure');
  t.equal(supervisor.lastError!.phase, 'start');
  t.match(supervisor.lastError!.message, /ffmpeg exited with code 1: encoder unavailable/);
});
