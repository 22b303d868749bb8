import t from 'tap';
import { clientAddress } from '../../../relay/http/client-address.ts';

t.test('X-Forwarded-For counts only from trusted proxies', async (t) => {
  t.equal(clientAddress('203.0.113.9', '1.2.3.4', []), '203.0.113.9', 'no TrustProxy: the header is ignored');
  t.equal(clientAddress('203.0.113.9', '1.2.3.4', ['10.0.0.1']), '203.0.113.9', 'from an untrusted peer: ignored');
  t.equal(clientAddress('10.0.0.1', '198.51.100.7', ['10.0.0.1']), '198.51.100.7', 'from the proxy: the client it saw');
  t.equal(clientAddress('::ffff:10.0.0.1', '198.51.100.7', ['10.0.0.1']), '198.51.100.7', 'an IPv4-mapped peer matches its IPv4 form');
});

t.test('spoofed hops a client writes itself are not believed', async (t) => {
  // The client sends "X-Forwarded-For: 127.0.0.1" hoping to be taken for the relay's own host; the proxy appends its peer.
  t.equal(clientAddress('10.0.0.1', '127.0.0.1, 198.51.100.7', ['10.0.0.1']), '198.51.100.7');
  t.equal(clientAddress('10.0.0.1', '127.0.0.1, 198.51.100.7, 10.0.0.2', ['10.0.0.1', '10.0.0.2']), '198.51.100.7', 'two proxies in a row');
  t.equal(clientAddress('10.0.0.1', 'garbage, <script>', ['10.0.0.1']), '10.0.0.1', 'garbage: the proxy itself');
  t.equal(clientAddress('10.0.0.1', '198.51.100.7, not-an-ip', ['10.0.0.1']), '10.0.0.1', 'garbage nearest us stops the walk');
  t.equal(clientAddress('10.0.0.1', `${'1.1.1.1, '.repeat(500)}198.51.100.7`, ['10.0.0.1']), '10.0.0.1', 'an oversized header is ignored');
  t.equal(clientAddress('10.0.0.1', '10.0.0.1', ['10.0.0.1']), '10.0.0.1', 'only proxies: the leftmost');
});
