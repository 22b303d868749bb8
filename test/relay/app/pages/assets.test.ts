// Guards the player assets being looked for one folder short (relay/player/) after the pages moved: every player page's scripts answered 500.
import t from 'tap';
import { loadAsset } from '../../../../relay/app/pages/assets.ts';

t.test('every player script and the style sheet are served from player/', async (t) => {
  for (const name of ['player-shell.js', 'flv-player.js', 'webrtc.js', 'player.js', 'relay.css']) {
    const asset = await loadAsset(name);
    t.ok(asset && asset.body.length > 100, `${name} is served`);
  }
  t.equal(await loadAsset('../package.json'), undefined, 'nothing outside the list');
});
