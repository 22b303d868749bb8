import t from 'tap';
import { parseConfig } from '../../conf/parse.ts';
import { rejectsConfig } from '../helpers/config-rejects.ts';

const schemes = ['testsrc', 'http', 'vbc'];
const camera = (lines: string, source = 'http://10.0.0.5/-wvhttp-01-/GetOneShot?frame_count=no_limit') => `<Camera cam>\n Source ${source}\n${lines}\n</Camera>\n`;

t.test('defaults: no control; canon-http takes the address of an HTTP Source', async (t) => {
  const none = parseConfig(camera(''), 'relay.conf', { schemes }).config.cameras[0]!.control;
  t.match(none, { kind: 'none', address: undefined, holdMs: 30_000, maxHoldMs: 120_000, idleMs: 10_000, access: 'public' });
  const canon = parseConfig(camera(' Control canon-http\n ControlPreset home 0 -10.5 40\n ControlPanRange -170 170'), 'relay.conf', { schemes }).config.cameras[0]!.control;
  t.match(canon, { kind: 'canon-http', address: 'http://10.0.0.5', panRange: [-170, 170], presets: [{ name: 'home', pan: 0, tilt: -10.5, zoom: 40 }] });
  const vbc = parseConfig(camera(' Control canon-http\n ControlAddress http://10.0.0.6:8080', 'vbc://10.0.0.6'), 'relay.conf', { schemes }).config.cameras[0]!.control;
  t.equal(vbc.address, 'http://10.0.0.6:8080');
});

t.test('bad control directives name the line and what is wrong', async (t) => {
  rejectsConfig(t, camera(' Control canon-http', 'vbc://10.0.0.6'), "relay.conf:3: ControlAddress: Control canon-http needs the camera's http:// address (e.g. http://camera:80); put credentials in Username and Password", schemes);
  rejectsConfig(t, camera(' Control canon-http\n ControlAddress http://user:pw@cam/'), "relay.conf:4: ControlAddress: Control canon-http needs the camera's http:// address (e.g. http://camera:80); put credentials in Username and Password", schemes);
  rejectsConfig(t, camera(' Control visca'), 'relay.conf:3: Control: "visca" is not one of none, canon-http, onvif', schemes);
  // A vbc:// camera gives no http:// address to default to.
  rejectsConfig(t, camera(' Control onvif', 'vbc://10.0.0.6'), "relay.conf:3: ControlAddress: Control onvif needs the camera's http:// address (e.g. http://camera:80); put credentials in Username and Password", schemes);
  rejectsConfig(t, camera(' ControlPanRange 10 -10'), 'relay.conf:3: ControlPanRange: 10 -10 is not a range within -360 to 360 (MIN below MAX)', schemes);
  rejectsConfig(t, camera(' ControlTiltRange NaN 1'), 'relay.conf:3: ControlTiltRange: takes two numbers of degrees, MIN MAX (e.g. -180 180)', schemes);
  rejectsConfig(t, camera(' ControlPreset home 1e9 0 0'), 'relay.conf:3: ControlPreset: takes NAME PAN TILT ZOOM (a name of letters, digits, ".", "_" or "-", then three numbers of degrees)', schemes);
  rejectsConfig(t, camera(' ControlPreset a 0 0 1\n ControlPreset a 1 1 1'), 'relay.conf:4: ControlPreset: "a" is defined twice', schemes);
  rejectsConfig(t, camera(' ControlHoldSeconds 60\n ControlMaxHoldSeconds 30'), 'relay.conf:4: ControlMaxHoldSeconds: must be at least ControlHoldSeconds', schemes);
  rejectsConfig(t, camera(' Control canon-http\n ControlAccess token'), 'relay.conf:4: ControlAccess: token needs ViewerTokenSecret', schemes);
});
