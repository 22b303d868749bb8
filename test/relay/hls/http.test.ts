import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import t from 'tap';
import { sendCacheable, type CacheableResponse } from '../../../relay/hls/http.ts';

const changedAt = Date.parse('2026-11-21T12:00:00.400Z');
let response: CacheableResponse = { contentType: 'text/plain', cacheControl: 'public, max-age=1', etag: '"a.1"', modifiedAt: changedAt, modifiedAtIdentifies: true };
const app = new Koa();
app.use((ctx) => sendCacheable(ctx, Buffer.from('body'), response));
const server = createServer(app.callback()).listen(0, '127.0.0.1');
await new Promise((resolve) => server.once('listening', resolve));
t.teardown(() => server.close());
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
const status = async (headers: Record<string, string>, method = 'GET'): Promise<number> => (await fetch(url, { headers, method })).status;
const lastModified = new Date(changedAt).toUTCString();

t.test('If-None-Match: the current tag, a list holding it, weak form and * are 304; others 200', async (t) => {
  t.equal(await status({ 'If-None-Match': '"a.1"' }), 304);
  t.equal(await status({ 'If-None-Match': '"x", "a.1"' }), 304);
  t.equal(await status({ 'If-None-Match': 'W/"a.1"' }), 304);
  t.equal(await status({ 'If-None-Match': '*' }), 304);
  t.equal(await status({ 'If-None-Match': '"a.2"' }), 200);
  t.equal(await status({ 'If-None-Match': `${'"x", '.repeat(2000)}"a.1"` }), 200, 'an oversized list is not searched');
  t.equal(await status({ 'If-None-Match': '"a.2"', 'If-Modified-Since': lastModified }), 200, 'If-None-Match wins over the date');
});

t.test('If-Modified-Since: by second; garbage dates are ignored', async (t) => {
  t.equal(await status({ 'If-Modified-Since': lastModified }), 304);
  t.equal(await status({ 'If-Modified-Since': new Date(changedAt - 1000).toUTCString() }), 200);
  for (const garbage of ['yesterday', '', 'Thu, 99 Foo 9999 99:99:99 GMT', '\u00ff'.repeat(100)]) {
    t.equal(await status({ 'If-Modified-Since': garbage }), 200, JSON.stringify(garbage.slice(0, 20)));
  }
});

t.test('a second change within the same second: the date cannot tell the versions apart, so no 304 by date', async (t) => {
  // Guards against a cache keeping a stale playlist: two playlists changed within one second share a Last-Modified.
  response = { ...response, etag: '"a.2"', modifiedAt: changedAt + 300, modifiedAtIdentifies: false };
  t.equal(await status({ 'If-Modified-Since': lastModified }), 200);
  t.equal(await status({ 'If-None-Match': '"a.2"' }), 304, 'the tag still can');
});

t.test('HEAD: the same headers, Content-Length, no body', async (t) => {
  const head = await fetch(url, { method: 'HEAD' });
  t.equal(head.headers.get('content-length'), '4');
  t.equal(head.headers.get('etag'), '"a.2"');
  t.equal(head.headers.get('access-control-allow-origin'), '*');
  t.equal(head.headers.get('vary'), null);
  t.equal((await head.arrayBuffer()).byteLength, 0);
});
