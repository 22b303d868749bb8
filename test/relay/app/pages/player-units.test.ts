import t from 'tap';
import { embedSize, renderPlayerPage } from '../../../../relay/app/pages/player-page.ts';
import { renderFlvPlayerPage } from '../../../../relay/app/pages/flv-player-page.ts';
import { viewerStreamState } from '../../../../relay/app/pages/player-state.ts';
import { renderWallPage, wallCameraNames, WALL_MAX_TILES } from '../../../../relay/app/pages/wall-page.ts';
import type { CameraStatus, StatusSnapshot, StreamStatus } from '../../../../relay/app/status.ts';

/** A snapshot with the fields these pages read; the rest are zeros. */
function snapshot(cameras: Array<Partial<CameraStatus> & { name: string }>, streams: Array<Partial<StreamStatus> & { name: string; camera: string; format: string }>): StatusSnapshot {
  return {
    server: {} as StatusSnapshot['server'],
    cameras: cameras.map((camera) => ({ state: 'live', stateText: 'live', nextAttemptInSeconds: null, lastError: null, ...camera }) as CameraStatus),
    streams: streams.map((stream) => ({ url: `/${stream.name}`, playerUrl: null, ffmpeg: null, ...stream }) as StreamStatus),
    encoders: [],
    recording: null,
  };
}

t.test('the viewer state of a stream follows its camera, then its encoder', async (t) => {
  const secret = 'rtsp://admin:hunter2@10.0.0.9/stream';
  const cases: Array<[Partial<CameraStatus>, StreamStatus['ffmpeg'], { state: string; text: string }]> = [
    [{ state: 'live' }, null, { state: 'live', text: 'live' }],
    [{ state: 'retrying', nextAttemptInSeconds: 4 }, null, { state: 'retrying', text: 'camera unavailable, retrying in 4 s' }],
    [{ state: 'retrying', nextAttemptInSeconds: null }, null, { state: 'retrying', text: 'camera unavailable, retrying…' }],
    [{ state: 'starting' }, null, { state: 'starting', text: 'camera starting…' }],
    [{ state: 'idle' }, null, { state: 'idle', text: 'camera idle, starting…' }],
    [{ state: 'waiting' }, null, { state: 'waiting', text: 'waiting for the camera…' }],
    [{ state: 'stopped' }, null, { state: 'stopped', text: 'camera stopped' }],
    [{ state: 'something new' }, null, { state: 'stopped', text: 'camera stopped' }],
    [{ state: 'live' }, { state: 'retrying' } as StreamStatus['ffmpeg'], { state: 'encoder', text: 'encoder restarting…' }],
    [{ state: 'live' }, { state: 'starting' } as StreamStatus['ffmpeg'], { state: 'encoder', text: 'encoder starting…' }],
    [{ state: 'live' }, { state: 'live' } as StreamStatus['ffmpeg'], { state: 'live', text: 'live' }],
    [{ state: 'retrying', nextAttemptInSeconds: 2 }, { state: 'retrying' } as StreamStatus['ffmpeg'], { state: 'retrying', text: 'camera unavailable, retrying in 2 s' }],
  ];
  for (const [camera, ffmpeg, expected] of cases) {
    const snap = snapshot(
      [{ name: 'cam', host: secret, lastError: { message: `cannot reach ${secret}`, at: '', phase: 'run' }, ...camera }],
      [{ name: 'cam.flv', camera: 'cam', format: 'flv', ffmpeg }],
    );
    const state = viewerStreamState(snap, 'cam.flv');
    t.same(state, expected, `${camera.state} / ${ffmpeg?.state ?? 'no encoder'}`);
    t.notMatch(JSON.stringify(state), /hunter2|admin|10\.0\.0\.9/, 'nothing of the camera address or its errors');
  }
  t.equal(viewerStreamState(snapshot([], []), 'cam.flv'), undefined, 'unknown stream');
  t.equal(viewerStreamState(snapshot([], [{ name: 'x.flv', camera: 'gone', format: 'flv' }]), 'x.flv')?.state, 'stopped', 'a stream whose camera is gone');
});

t.test('wall camera names from hostile queries', async (t) => {
  const snap = snapshot(['a', 'b', 'c', 'd', 'e'].map((name) => ({ name })), []);
  t.same(wallCameraNames(undefined, snap), ['a', 'b', 'c', 'd'], 'default: the first four');
  t.same(wallCameraNames('', snap), ['a', 'b', 'c', 'd'], 'empty: the default');
  t.same(wallCameraNames('e, a ,e,,a', snap), ['e', 'a'], 'trimmed, no repeats, in order');
  t.same(wallCameraNames(['b', 'c,d'], snap), ['b', 'c', 'd'], 'repeated parameters');
  t.same(wallCameraNames('../../etc/passwd,..,.hidden,a/b,<script>,a%2Fb', snap), ['a', 'b', 'c', 'd'], 'no path or markup passes: the default')
  t.same(wallCameraNames('<script>,a', snap), ['a'], 'bad names dropped, good ones kept');
  const many = Array.from({ length: 10_000 }, (_, index) => `cam${index}`).join(',');
  t.equal(wallCameraNames(many, snap).length, WALL_MAX_TILES, 'at most WALL_MAX_TILES tiles');
  t.same(wallCameraNames('x'.repeat(1_000_000), snap), ['a', 'b', 'c', 'd'], 'an oversized name is no name');
  t.same(wallCameraNames(42, snap), ['a', 'b', 'c', 'd'], 'not a string');
});

t.test('the wall page: a tile per name, the grid as square as it gets, unknown cameras said so', async (t) => {
  const snap = snapshot(
    [{ name: 'a' }, { name: 'b' }, { name: 'c', state: 'retrying', stateText: 'retrying in 3 s' }, { name: 'd' }],
    [
      { name: 'a.jpg', camera: 'a', format: 'jpeg' },
      { name: 'b.m3u8', camera: 'b', format: 'hls', playerUrl: '/player/b.m3u8' },
      { name: 'b.flv', camera: 'b', format: 'flv', playerUrl: '/player/b.flv' },
      { name: 'c.mjpg', camera: 'c', format: 'mpjpeg' },
    ],
  );
  const page = renderWallPage(snap, ['a', 'b', 'c', 'zz']);
  t.match(page, /class="wall wall-columns-2"/);
  t.notMatch(page, /style=/, 'no inline style (the CSP refuses them)');
  t.match(page, /<img class="tile-image" src="\/a\.jpg" data-refresh="\/a\.jpg"/, 'snapshot tile');
  const down = renderWallPage(snapshot([{ name: 'a', state: 'retrying', stateText: 'camera unavailable' }], [{ name: 'a.jpg', camera: 'a', format: 'jpeg' }]), ['a']);
  t.match(down, /<div class="picture" data-live="0"><img class="tile-image" data-refresh="\/a\.jpg"/, 'a down camera\'s picture is not asked for');
  t.match(down, /picture-state">camera unavailable</, 'its state in its place');
  t.match(page, /<iframe class="tile-player" src="\/player\/b\.m3u8\?embed"/, 'first video stream in an iframe');
  t.match(page, /data-camera="c"><div class="tile-none">no image stream<\/div>/, 'no snapshot and no video: unavailable');
  t.match(page, /retrying in 3 s/, 'the camera state in the caption');
  t.match(page, /data-camera="zz"><div class="tile-none">unknown camera/);
  t.equal((page.match(/class="tile"/g) ?? []).length, 4);
  t.match(renderWallPage(snap, ['a']), /wall-columns-1"/);
  t.match(renderWallPage(snap, Array.from({ length: 9 }, (_, i) => `n${i}`)), /wall-columns-3"/);
});

t.test('an LL-HLS stream tells the player to use hls.js low-latency mode', async (t) => {
  const request = { origin: 'http://relay:8090', autoplay: true, muted: true, embed: false };
  const stream = { name: 'cam.m3u8', url: '/cam.m3u8', playerUrl: '/player/cam.m3u8', camera: 'cam', format: 'hls' } as StreamStatus;
  t.match(renderPlayerPage({ ...stream, lowLatency: true } as StreamStatus, undefined, request), /data-low-latency="1"/);
  t.match(renderPlayerPage(stream, undefined, request), /data-low-latency="0"/, 'no field: the standard settings');
  t.match(renderPlayerPage({ ...stream, lowLatency: 'yes' } as unknown as StreamStatus, undefined, request), /data-low-latency="0"/, 'only true counts');
});

t.test('the iframe snippets take the stream\'s picture shape', async (t) => {
  // Guards a 640x360 iframe snippet around 4:3 video.
  const request = { origin: 'http://relay:8090', autoplay: true, muted: true, embed: false };
  const stream = (size: string | null, format = 'hls') => ({ name: `cam.${format === 'hls' ? 'm3u8' : 'flv'}`, url: '/cam', playerUrl: '/player/cam', camera: 'cam', format,
    configured: { size, frameRate: 10, bitRateKbps: 300 } }) as StreamStatus;
  t.same(embedSize(stream('320x240')), { width: 640, height: 480 });
  t.same(embedSize(stream('1280x720')), { width: 640, height: 360 });
  t.same(embedSize(stream('704x576')), { width: 640, height: 524 }, 'PAL D1, rounded to even');
  t.same(embedSize(stream(null)), { width: 640, height: 480 }, 'the camera\'s own size: 4:3');
  t.same(embedSize(stream('0x0')), { width: 640, height: 480 }, 'nonsense: 4:3');
  t.match(renderPlayerPage(stream('320x240'), undefined, request), /embed&quot; width=&quot;640&quot; height=&quot;480&quot;/, 'HLS snippet of 4:3 video');
  t.match(renderPlayerPage(stream('1280x720'), undefined, request), /width=&quot;640&quot; height=&quot;360&quot;/, 'HLS snippet of 16:9 video');
  t.match(renderFlvPlayerPage(stream('1280x720', 'flv'), undefined, request), /width=&quot;640&quot; height=&quot;360&quot;/, 'FLV snippet of 16:9 video');
});
