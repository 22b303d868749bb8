// Guards: player pages of token streams linked the camera's other streams with the wrong token (the FLV iframe
// snippet as `?token=…?embed`, the FLV page's HLS fallback with the .flv token, the HLS page's MJPEG snippet with the
// .m3u8 token), all 403: every link, snippet and fallback of a token-protected page must open with 200.
import t from 'tap';
import { signViewerToken } from '../../../../relay/auth/viewer-token.ts';
import { startTestRelay, syntheticConfig } from '../../../helpers/relay.ts';
import { get } from '../../../helpers/request.ts';
import { endWebRtc, WhepClient } from '../../../helpers/whep-client.ts';

const SECRET = 'viewer-token-secret-0123456789abcdef';
const relay = await startTestRelay(`ViewerTokenSecret ${SECRET}\nDefaultAccess token\n${syntheticConfig({ rate: 10 })}`);
t.teardown(() => relay.stop());
t.teardown(endWebRtc);
const token = (scope: string): string => signViewerToken(SECRET, scope, Math.floor(Date.now() / 1000) + 3600);

const unescape = (text: string): string =>
  text.replace(/&(amp|lt|gt|quot|#39);/g, (_, entity: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'" })[entity]!);

/** Every URL of this relay a page names: attributes of the page itself, and absolute URLs inside its snippets. */
function linksOf(page: string): string[] {
  const attributes = [...page.matchAll(/\s(?:href|src|data-[a-z-]+)="(\/[^"]*)"/g)].map((match) => unescape(match[1]!));
  const snippets = [...unescape(page).matchAll(new RegExp(`${relay.baseUrl.replace(/[.]/g, '\\.')}(/[^'"\\s<>]*)`, 'g'))].map((match) => match[1]!);
  return [...new Set([...attributes, ...snippets])].filter((link) => !link.startsWith('/assets/') && link !== '/');
}

for (const name of ['test.flv', 'test.m3u8']) {
  t.test(`every link, snippet and fallback of /player/${name} opens with the token it carries`, async (t) => {
    const page = await get(`${relay.baseUrl}/player/${name}?token=${token(name)}`);
    t.equal(page.status, 200);
    const links = linksOf(page.body.toString());
    const expected = name === 'test.flv'
      ? ['/test.flv', '/test.m3u8', '/player/test.m3u8', '/player/test.flv', '/player/test.flv/state', '/player/test.webrtc', '/test.flv/whep']
      : ['/test.m3u8', '/test.mjpg', '/player/test.m3u8', '/player/test.m3u8/state', '/player/test.m3u8.webrtc', '/test.m3u8/whep'];
    for (const path of expected) t.ok(links.some((link) => link.split(/[?&]/)[0] === path), `${path} is linked`);
    for (const link of links) {
      t.match(link, /[?&]token=\d+\.[\w-]{43}(&|$)/, `${link} carries a token`);
      t.notMatch(link, /\?.*\?/, `${link} has one query`);
      if (/^\/[^/?]+\/whep\?/.test(link)) {
        // The WHEP endpoint takes an SDP offer by POST (a GET is 404): the offer must be answered, not refused.
        const viewer = await WhepClient.connect(`${relay.baseUrl}${link}`);
        t.equal(viewer.answer?.status, 201, `POST ${link}`);
        await viewer.close();
        continue;
      }
      const answer = await get(`${relay.baseUrl}${link}`, { maxBytes: 1, readMs: 8000 });
      t.equal(answer.status, 200, link);
    }
  });
}

t.test('a page opened with a bad token gets no tokens for the other streams', async (t) => {
  const forged = `${Math.floor(Date.now() / 1000) + 3600}.${'A'.repeat(43)}`;
  const page = await get(`${relay.baseUrl}/player/test.m3u8?token=${forged}`);
  t.equal(page.status, 403, 'the page itself is refused');
  const admin = await get(`${relay.baseUrl}/player/test.flv?token=${token('test.m3u8')}`);
  t.equal(admin.status, 403, 'another stream\'s token does not open the page, so mints nothing');
});
