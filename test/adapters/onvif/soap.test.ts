import t from 'tap';
import { envelope, OnvifError, parseReply, passwordDigest, soapCall } from '../../../adapters/onvif/soap.ts';
import { parseProbeMatches } from '../../../adapters/onvif/discovery.ts';
import { OnvifDeviceSimulator } from '../../helpers/onvif-device.ts';

t.test('the password digest is Base64(SHA-1(nonce + created + password)), and the envelope carries it', async (t) => {
  const nonce = Buffer.from('0123456789abcdef');
  const created = '2026-01-01T00:00:00Z';
  const digest = passwordDigest(nonce, created, 'secret');
  t.equal(digest, 'AHdjPQqhLugJUej2bfmGQqPj3Vo=', 'as Python hashlib computes it');
  const text = envelope('<tds:GetDeviceInformation/>', { username: 'ad<min', password: 'secret' }, new Date(created), nonce);
  t.match(text, `<wsse:Password Type="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest">${digest}</wsse:Password>`);
  t.match(text, '<wsse:Username>ad&#60;min</wsse:Username>', 'user names are escaped');
  t.notMatch(envelope('<x/>', { username: undefined, password: undefined }), 'Security', 'no credentials, no security header');
});

t.test('replies: a body, a fault with its reason, and everything hostile refused with a clear error', async (t) => {
  const soap = (body: string): string => `<?xml version="1.0"?><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body>${body}</s:Body></s:Envelope>`;
  t.ok(parseReply(soap('<a:X xmlns:a="urn:a">1</a:X>')).X !== undefined, 'namespace prefixes are dropped');
  t.throws(() => parseReply(soap('<s:Fault><s:Reason><s:Text>No such profile</s:Text></s:Reason></s:Fault>')), { name: 'OnvifError', code: 'FAULT', message: 'SOAP fault: No such profile' });
  t.throws(() => parseReply(soap('<s:Fault><s:Code><s:Subcode><s:Value>ter:NotAuthorized</s:Value></s:Subcode></s:Code><s:Reason><s:Text>no</s:Text></s:Reason></s:Fault>')), { code: 'AUTH' });
  const bomb = '<?xml version="1.0"?><!DOCTYPE b [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><s:Envelope xmlns:s="x"><s:Body>&b;</s:Body></s:Envelope>';
  t.throws(() => parseReply(bomb), { code: 'PROTOCOL', message: /DOCTYPE/ }, 'an XML bomb is refused before parsing');
  t.throws(() => parseReply('<s:Envelope><s:Body><open>'), { code: 'PROTOCOL', message: /well-formed/ });
  t.throws(() => parseReply('<html><body>login</body></html>'), { code: 'PROTOCOL', message: /SOAP envelope/ });
  t.throws(() => parseReply(''), OnvifError);
  const longReason = soap(`<s:Fault><s:Reason><s:Text>${'x'.repeat(5000)}\u0007</s:Text></s:Reason></s:Fault>`);
  t.throws(() => parseReply(longReason), { message: /^SOAP fault: x{120}$/ }, 'a fault text is cut short and cleaned');
});

t.test('calls to a device: wrong credentials, a hung device, a huge reply and an HTTP error each fail clearly', async (t) => {
  const device = await new OnvifDeviceSimulator({ username: 'admin', password: 'pw' }).start();
  t.teardown(() => device.stop());
  const ok = await soapCall(device.deviceUrl, '<tds:GetDeviceInformation/>', { username: 'admin', password: 'pw' }, 2000);
  t.ok(ok.GetDeviceInformationResponse);
  await t.rejects(soapCall(device.deviceUrl, '<tds:GetDeviceInformation/>', { username: 'admin', password: 'wrong' }, 2000), { code: 'AUTH' });
  device.fault = 'huge';
  await t.rejects(soapCall(device.deviceUrl, '<tds:GetDeviceInformation/>', { username: 'admin', password: 'pw' }, 2000), { code: 'PROTOCOL', message: /larger than/ });
  device.fault = 'http-500';
  await t.rejects(soapCall(device.deviceUrl, '<tds:GetDeviceInformation/>', { username: 'admin', password: 'pw' }, 2000), { code: 'FAULT', message: 'HTTP 500' });
  device.fault = 'hang';
  const started = Date.now();
  await t.rejects(soapCall(device.deviceUrl, '<tds:GetDeviceInformation/>', { username: 'admin', password: 'pw' }, 300), { code: 'TIMEOUT' });
  t.ok(Date.now() - started < 2000, 'the timeout holds');
  await t.rejects(soapCall('http://127.0.0.1:1/onvif/device_service', '<x/>', { username: undefined, password: undefined }, 1000), { code: 'UNREACHABLE' });
});

t.test('WS-Discovery answers: hostile, malformed and non-HTTP addresses are left out', async (t) => {
  const match = (xaddrs: string, extra = ''): string => '<?xml version="1.0"?><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><d:ProbeMatches xmlns:d="d">'
    + `<d:ProbeMatch><d:XAddrs>${xaddrs}</d:XAddrs><d:Scopes>onvif://www.onvif.org/name/Cam${extra}</d:Scopes></d:ProbeMatch></d:ProbeMatches></s:Body></s:Envelope>`;
  t.same(parseProbeMatches(match('http://10.0.0.5/onvif/device_service'), '10.0.0.5').map((device) => device.xaddrs), [['http://10.0.0.5/onvif/device_service']]);
  t.same(parseProbeMatches(match('file:///etc/passwd javascript:alert(1)'), 'x'), [], 'only http(s) device addresses');
  t.same(parseProbeMatches('<!DOCTYPE x [<!ENTITY a "a">]><x>&a;</x>', 'x'), [], 'an XML bomb is ignored');
  t.same(parseProbeMatches('\u0000\u0001garbage', 'x'), []);
  const many = match(Array.from({ length: 50 }, (_, i) => `http://10.0.0.${i}/`).join(' '), 'x'.repeat(10_000));
  const [device] = parseProbeMatches(many, 'x');
  t.equal(device?.xaddrs.length, 4, 'at most four addresses per device');
  t.ok(device!.scopes.every((scope) => scope.length <= 200), 'scopes are cut short');
});
