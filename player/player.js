// The relay's HLS player: plays <video data-src="PLAYLIST"> natively where the browser can, else with hls.js,
// follows the live edge, and recovers by itself from network and media errors and from a stream that stops and
// comes back (the relay restarting a camera or its ffmpeg). ?engine=native|hlsjs forces one way of playing.
(function () {
  'use strict';
  var RETRY_MS = 2000;
  /** Playback that should be moving but has not for this long is rebuilt from scratch. */
  var STALL_MS = 10000;
  var MAX_NETWORK_RETRIES = 3;

  var video = document.getElementById('video');
  var box = document.getElementById('player');
  var label = document.getElementById('player-state');
  if (!video || !box) return;
  var src = video.getAttribute('data-src');
  var params = new URLSearchParams(location.search);
  var forced = params.get('engine');
  var native = !!video.canPlayType('application/vnd.apple.mpegurl');
  var engine = forced === 'native' || forced === 'hlsjs' ? forced : native ? 'native' : 'hlsjs';
  if (engine === 'hlsjs' && !(window.Hls && window.Hls.isSupported())) engine = native ? 'native' : 'none';

  // For tests and dashboards: what the player is doing, read-only.
  var info = { engine: engine, state: 'connecting', rebuilds: 0, errors: [] };
  window.relayPlayer = info;

  var wantPlaying = video.autoplay;
  var rebuilding = false;
  var retryTimer = 0;
  var lastTime = -1;
  var lastProgressAt = Date.now();
  var hls = null;
  var networkRetries = 0;
  var mediaRecoveries = 0;

  function setState(state, text) {
    info.state = state;
    box.setAttribute('data-state', state);
    if (label) label.textContent = text || state;
  }

  function note(error) {
    info.errors.push(error);
    if (info.errors.length > 20) info.errors.shift();
  }

  function play() {
    if (!wantPlaying) return;
    var promise = video.play();
    if (promise && promise.catch) {
      promise.catch(function (error) {
        // Autoplay with sound is refused until the viewer interacts: show it rather than spin.
        if (error && error.name === 'NotAllowedError') {
          wantPlaying = false;
          setState('paused', 'press play');
        }
      });
    }
  }

  function schedule(fn, ms) {
    clearTimeout(retryTimer);
    retryTimer = setTimeout(fn, ms);
  }

  /** Throws the current session away and starts again: the last resort, and the cure for a restarted stream. */
  function rebuild(reason) {
    note(reason);
    info.rebuilds++;
    setState('reconnecting', 'reconnecting…');
    rebuilding = true;
    if (hls) {
      hls.destroy();
      hls = null;
    }
    if (engine === 'native') {
      video.removeAttribute('src');
      video.load();
    }
    schedule(function () {
      rebuilding = false;
      lastProgressAt = Date.now();
      start();
    }, RETRY_MS);
  }

  function startHlsJs() {
    var Hls = window.Hls;
    hls = new Hls({
      liveSyncDurationCount: 2,
      liveMaxLatencyDurationCount: 6,
      maxLiveSyncPlaybackRate: 1.5,
      backBufferLength: 30,
    });
    var session = hls;
    networkRetries = 0;
    mediaRecoveries = 0;
    hls.on(Hls.Events.MANIFEST_PARSED, function () { play(); });
    hls.on(Hls.Events.FRAG_BUFFERED, function () { networkRetries = 0; });
    hls.on(Hls.Events.ERROR, function (event, data) {
      if (!data.fatal || session !== hls) return;
      note(data.type + ': ' + data.details);
      setState('reconnecting', 'reconnecting…');
      // hls.js's documented recovery: retry loading on network errors, recover the media element on media errors,
      // and start over on anything else (or when the cheap cures keep failing).
      if (data.type === Hls.ErrorTypes.NETWORK_ERROR && networkRetries < MAX_NETWORK_RETRIES) {
        networkRetries++;
        schedule(function () { if (session === hls) hls.startLoad(); }, RETRY_MS * networkRetries);
      } else if (data.type === Hls.ErrorTypes.MEDIA_ERROR && mediaRecoveries < 2) {
        mediaRecoveries++;
        hls.recoverMediaError();
      } else {
        rebuild(data.details);
      }
    });
    hls.loadSource(src);
    hls.attachMedia(video);
  }

  function startNative() {
    video.src = src;
    play();
  }

  function start() {
    if (engine === 'none') return setState('unsupported', 'this browser cannot play HLS');
    setState(info.state === 'reconnecting' ? 'reconnecting' : 'connecting', info.state === 'reconnecting' ? 'reconnecting…' : 'connecting…');
    if (engine === 'hlsjs') startHlsJs();
    else startNative();
  }

  video.addEventListener('error', function () {
    if (engine === 'native' && !rebuilding && video.getAttribute('src')) rebuild('media error ' + (video.error && video.error.code));
  });
  video.addEventListener('play', function () {
    wantPlaying = true;
    // Back from a pause: jump to the live edge rather than play old video.
    if (hls && hls.liveSyncPosition && video.currentTime < hls.liveSyncPosition - 10) video.currentTime = hls.liveSyncPosition;
  });
  video.addEventListener('pause', function () {
    if (!rebuilding && !video.ended && document.visibilityState === 'visible') wantPlaying = false;
  });
  video.addEventListener('waiting', function () {
    if (info.state === 'playing') setState('buffering', 'buffering…');
  });
  video.addEventListener('timeupdate', function () {
    if (video.currentTime !== lastTime) {
      lastTime = video.currentTime;
      lastProgressAt = Date.now();
      if (!video.paused && info.state !== 'playing') setState('playing', 'live');
    }
  });

  // The watchdog: a stream that should be moving and is not gets rebuilt, whatever went wrong underneath.
  setInterval(function () {
    if (!wantPlaying || rebuilding || engine === 'none') return;
    if (Date.now() - lastProgressAt > STALL_MS) rebuild('stalled');
  }, 1000);

  start();
})();
