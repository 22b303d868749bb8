import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { request } from 'node:http';
import { startTestRelay } from '../helpers/relay.ts';

const SCRIPT = fileURLToPath(new URL('../../deploy/push-source.sh', import.meta.url));
const KEY = 'operator-script-key-01';

const GATE_KEY = 'operator-script-key-02';

const conf = `RTPPortRange 35000-35009
<Camera garden>
  Source push://
  PublishKey ${KEY}
  Timeout 5
</Camera>
<Camera gate>
  Source push://
  PublishKey ${GATE_KEY}
  OnDemand yes
</Camera>
<Stream garden.flv>
  Feed garden
</Stream>
<Stream gate.flv>
  Feed gate
</Stream>
`;

/** gst-launch processes whose command line names `port`: the script's child, if it is still there. */
function gstProcessesFor(port: number): number[] {
  return readdirSync('/proc').filter((entry) => /^\d+$/.test(entry)).flatMap((entry) => {
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      return cmdline[0]?.endsWith('gst-launch-1.0') && cmdline.some((arg) => arg.endsWith(`:${port}`)) ? [Number(entry)] : [];
    } catch {
      return [];
    }
  });
}

function runScript(baseUrl: string, key: string, args: string[] = []) {
  const child = spawn('bash', [SCRIPT, baseUrl, '--size', '320x240', '--rate', '15', '--bitrate', '300', ...args], {
    env: { ...process.env, PUBLISH_KEY: key },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const waitFor = async (pattern: RegExp, timeoutMs = 20_000): Promise<RegExpExecArray> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const match = pattern.exec(output);
      if (match) return match;
      if (Date.now() > deadline) throw new Error(`no ${pattern} in: ${output}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };
  return { child, exited, waitFor, output: () => output };
}

t.test('the operator script pushes a test pattern in one line and stops the stream on SIGTERM', async (t) => {
  const relay = await startTestRelay(conf);
  t.teardown(() => relay.stop());
  const script = runScript(relay.baseUrl, KEY);
  t.teardown(() => script.child.kill('SIGKILL'));
  const [, port] = await script.waitFor(/RTP port (\d+), RTCP port \d+/);
  await script.waitFor(/validated: stream captured/);
  const feed = relay.relay.feeds.get('garden')!;
  t.equal(feed.state, 'live');
  t.equal(feed.latestFrame?.track.codec, 'vp8');
  t.equal(gstProcessesFor(Number(port)).length, 1, 'GStreamer runs');
  script.child.kill('SIGTERM');
  t.equal(await script.exited, 0);
  t.match(script.output(), /stream stopped/);
  t.equal(relay.relay.push.allocatedPairs, 0, 'stop_stream freed the ports');
  t.equal(feed.state, 'waiting');
  t.same(gstProcessesFor(Number(port)), [], 'GStreamer is gone');
  t.notOk(script.output().includes(KEY), 'the key is not printed');
});

t.test('a wrong key: the script says why and exits non-zero without starting GStreamer', async (t) => {
  const relay = await startTestRelay(conf);
  t.teardown(() => relay.stop());
  const script = runScript(relay.baseUrl, 'wrong-key-wrong-key-00');
  t.equal(await script.exited, 1);
  t.match(script.output(), /"error_code":4011/);
  t.notMatch(script.output(), /sending/);
});

t.test('an on-demand camera asks the script\'s GStreamer for a keyframe when its first viewer comes, not waiting a minute', async (t) => {
  // Guards against keyframe requests (RTCP PLI) that never reach the publisher's encoder (RTCP not symmetric).
  const relay = await startTestRelay(conf);
  t.teardown(() => relay.stop());
  const script = runScript(relay.baseUrl, GATE_KEY, ['--keyframe-seconds', '60']);
  t.teardown(() => script.child.kill('SIGKILL'));
  await script.waitFor(/validated: .*the camera is on demand/);
  const feed = relay.relay.feeds.get('gate')!;
  t.equal(feed.state, 'idle', 'nobody watches yet');
  const viewer = request(`${relay.baseUrl}/gate.flv`);
  viewer.on('response', (response) => response.resume());
  viewer.on('error', () => {});
  viewer.end();
  t.teardown(() => viewer.destroy());
  const began = Date.now();
  while (feed.counters.framesIn === 0 && Date.now() - began < 8000) await new Promise((resolve) => setTimeout(resolve, 50));
  const waited = Date.now() - began;
  t.ok(feed.counters.framesIn > 0 && waited < 8000, `the camera took frames ${waited} ms after the viewer came (the encoder's own keyframe is 60 s away)`);
  t.equal(feed.latestFrame === undefined ? undefined : feed.state, 'live');
  t.ok((relay.relay.push.streams()[0]?.counters.keyframeRequests ?? 0) >= 1, 'the relay asked for a keyframe');
  script.child.kill('SIGTERM');
  t.equal(await script.exited, 0);
});
