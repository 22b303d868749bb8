import t from 'tap';
import { plainAddress, unmapIpv4 } from '../../lib/address.ts';

t.test('an IPv4-mapped address loses its prefix, nothing else changes', async (t) => {
  t.equal(unmapIpv4('::ffff:127.0.0.1'), '127.0.0.1');
  t.equal(unmapIpv4('::FFFF:10.1.2.3'), '10.1.2.3', 'any case');
  t.equal(unmapIpv4('127.0.0.1'), '127.0.0.1');
  t.equal(unmapIpv4('::1'), '::1');
  t.equal(unmapIpv4('::ffff:7f00:1'), '::ffff:7f00:1', 'the hex form is not an IPv4 address');
  t.equal(unmapIpv4('::ffff:not.an.ip.addr'), '::ffff:not.an.ip.addr', 'garbage stays as it was');
  t.equal(unmapIpv4('::ffff:1.2.3'), '::ffff:1.2.3');
  t.equal(unmapIpv4('2001:db8::ffff:1.2.3.4'), '2001:db8::ffff:1.2.3.4', 'only a leading mapping');
  t.equal(unmapIpv4(''), '');
});

t.test('a peer without an address is "unknown"', async (t) => {
  t.equal(plainAddress(undefined), 'unknown');
  t.equal(plainAddress(''), 'unknown');
  t.equal(plainAddress('::ffff:192.0.2.1'), '192.0.2.1');
});
