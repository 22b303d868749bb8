// Guards: after the pages moved to relay/app/pages/, the player's own assets were looked for in relay/player/ and every one answered 500.
import { readFile } from 'node:fs/promises';
import t from 'tap';
import { loadAsset } from '../../../../relay/app/pages/assets.ts';

t.test('the player assets are the files of player/', async (t) => {
  for (const name of ['player.js', 'player-shell.js', 'flv-player.js', 'vod.js', 'status.js', 'index.js', 'recordings.js', 'control.js', 'relay.css', 'webrtc.js', 'live.js', 'admin.js']) {
    const asset = await loadAsset(name);
    const file = await readFile(new URL(`../../../../player/${name}`, import.meta.url));
    t.ok(asset?.body.equals(file), name);
  }
  t.equal(await loadAsset('../package.json'), undefined, 'nothing outside the list');
});
