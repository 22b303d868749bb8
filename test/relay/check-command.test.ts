import { spawn } from 'node:child_process';
import t from 'tap';
import { configFile, relayBin } from '../helpers/relay-process.ts';

function check(file: string): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [relayBin, '--check', file], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk));
    child.stderr.on('data', (chunk: Buffer) => (out += chunk));
    child.on('exit', (code) => resolve({ code, out }));
  });
}

// Guards: --check said only "ok", so a 500M RecordMaxSize that could never hold RecordDeleteAfter 7d went unnoticed.
t.test('--check prints what the config runs, the disk each recording fills per day, and the cap that cuts an age short', async (t) => {
  const file = await configFile(`<Camera door>
  Source testsrc://
  Record yes
  RecordBitRate 800k
  RecordMaxSize 500M
  RecordDeleteAfter 7d
</Camera>
<Camera yard>
  Source rtsp://127.0.0.1:9/yard
  Record yes
  RecordCodec copy
</Camera>
<Stream door.flv>
  Feed door
</Stream>
<Stream door.m3u8>
  Feed door
</Stream>
<Stream door-small.flv>
  Feed door
  VideoSize 320x240
</Stream>
<Stream yard.mjpg>
  Feed yard
</Stream>
`);
  const { code, out } = await check(file);
  t.equal(code, 0, out);
  t.match(out, /warning: \S+relay\.conf:6: RecordMaxSize 500M holds about 1\.5 h of <Camera door> at 800 kbit\/s, so RecordDeleteAfter 7 d is never reached \(that needs about 56\.3G\)/);
  t.match(out, /: ok\ncameras: 2, streams: 4 \(2 flv, 1 hls, 1 mpjpeg\), encoders: 2, recordings: 2\n/);
  t.match(out, /\n {2}record door: about 8\.0G per day at 800 kbit\/s, kept 7 d: about 56\.3G\n/);
  t.match(out, /\n {2}record yard: RecordCodec copy, disk per day follows the camera's own bit rate\n/);
  t.notMatch(out, /recordings: about/, 'no total from one known rate');
});
