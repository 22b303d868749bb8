import t from 'tap';
import { keyValues, operateParams, parseCameraInfo, parseConnectionId, wvStatus, wvUrl } from '../../../adapters/vbc/wvhttp-control.ts';
import { prng } from '../../helpers/prng.ts';

t.test('URLs and units', async (t) => {
  t.equal(wvUrl('http://cam:8080', 'OperateCamera', operateParams('0001-0000C0DE', { pan: -12.346, tilt: 0.5, zoom: 41.8 })),
    'http://cam:8080/-wvhttp-01-/OperateCamera?connection_id=0001-0000C0DE&pan=-1235&tilt=50&zoom=4180');
  t.equal(wvUrl('http://cam/', 'GetCameraControl', { connection_id: 'a&b=c' }), 'http://cam/-wvhttp-01-/GetCameraControl?connection_id=a%26b%3Dc');
});

t.test('Livescope-Status, 503 and the error banner', async (t) => {
  t.same(wvStatus(200, '0', 'OK.\r\n'), { ok: true });
  t.same(wvStatus(200, '403 camera control not permitted', ''), { ok: false, code: 403, message: 'camera control not permitted' });
  t.same(wvStatus(503, undefined, ''), { ok: false, code: 503, message: 'too many clients' });
  t.same(wvStatus(200, undefined, '--- WebView Livescope Http Server Error ---\r\n501 unknown connection id\r\n'), { ok: false, code: 501, message: 'unknown connection id' });
  const hostile = wvStatus(200, `407 ${'\u0007x'.repeat(500)}`, '');
  t.ok(!hostile.ok && hostile.message.length <= 120 && !/[\x00-\x1f]/.test(hostile.message), 'a hostile message is cut and cleaned');
});

t.test('GetCameraInfo and OpenCameraServer replies', async (t) => {
  const info = parseCameraInfo('pan_current_value=-2000\r\ntilt_current_value=-900\r\nzoom_current_value=2500\r\npan_left_limit=-17000\r\npan_right_limit=17000\r\ntilt_up_limit=1000\r\ntilt_down_limit=-9000\r\nzoom_tele_limit=300\r\nzoom_wide_limit=4500\r\n');
  t.same(info, { position: { pan: -20, tilt: -9, zoom: 25 }, panLimits: [-170, 170], tiltLimits: [-90, 10], zoomLimits: [3, 45] });
  t.same(parseCameraInfo('pan_current_value=1e9\ntilt_current_value=0\nzoom_current_value=0x10'), { position: undefined, panLimits: undefined, tiltLimits: undefined, zoomLimits: undefined });
  t.equal(parseConnectionId('connection_id=0001-0000C0DE\r\n'), '0001-0000C0DE');
  t.equal(parseConnectionId('connection_id=../../x\r\n'), undefined);
  t.equal(parseConnectionId(''), undefined);
});

t.test('fuzz: random replies never throw', async (t) => {
  const random = prng(26);
  const alphabet = 'pan_current_value=tilt_zoom_limit-0123456789\r\n= connection_id';
  for (let i = 0; i < 5000; i++) {
    const text = Array.from({ length: Math.floor(random() * 200) }, () => alphabet[Math.floor(random() * alphabet.length)]).join('');
    parseCameraInfo(text);
    parseConnectionId(text);
    keyValues(text);
    wvStatus(200, text.slice(0, 40), text);
  }
  t.pass('5000 replies parsed');
});
