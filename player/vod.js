// The relay's file player: plays <video data-file> directly where the browser can play that type, else the file's
// HLS package (data-hls) natively or with hls.js. window.relayVodPlayer says which way it took, for tests.
(function () {
  'use strict';
  var video = document.getElementById('video');
  var box = document.getElementById('player');
  var label = document.getElementById('player-state');
  if (!video || !box) return;
  var info = { engine: 'none', state: 'loading', errors: [] };
  window.relayVodPlayer = info;

  function setState(state, text) {
    info.state = state;
    box.setAttribute('data-state', state);
    if (label) label.textContent = text;
  }

  function playHls() {
    var src = video.getAttribute('data-hls');
    if (video.canPlayType('application/vnd.apple.mpegurl')) {
      info.engine = 'native-hls';
      video.addEventListener('error', function () {
        info.errors.push('native HLS playback failed');
        setState('error', 'this file cannot be played');
      });
      video.src = src;
      return;
    }
    if (window.Hls && window.Hls.isSupported()) {
      info.engine = 'hlsjs';
      var hls = new window.Hls();
      hls.on(window.Hls.Events.ERROR, function (event, data) {
        if (!data.fatal) return;
        info.errors.push(data.details);
        setState('error', 'this file cannot be played');
        hls.destroy();
      });
      hls.loadSource(src);
      hls.attachMedia(video);
      return;
    }
    setState('error', 'this browser cannot play this file');
  }

  video.addEventListener('loadedmetadata', function () { setState('ready', ''); });
  video.addEventListener('playing', function () { setState('playing', ''); });
  var type = video.getAttribute('data-type');
  if (type && video.canPlayType(type)) {
    info.engine = 'direct';
    video.addEventListener('error', function fallback() {
      video.removeEventListener('error', fallback);
      info.errors.push('direct playback failed');
      video.removeAttribute('src');
      playHls();
    });
    video.src = video.getAttribute('data-file');
  } else {
    playHls();
  }
})();
