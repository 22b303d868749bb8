// The relay's HLS player: plays <video data-src="PLAYLIST"> natively where the browser can, else with hls.js,
// follows the live edge, and recovers by itself from network and media errors and from a stream that stops and
// comes back (the relay restarting a camera or its ffmpeg). ?engine=native|hlsjs forces one way of playing.
// player-shell.js (loaded first) owns autoplay, the state label, the unmute control and the stall watchdog.
// WebRTC first where the stream offers it (webrtc.js, loaded before this script, calls back when it cannot play).
(function (main) {
  if (window.RelayWebRtcFirst) window.RelayWebRtcFirst(main);
  else main();
})(function () {
  'use strict';
  var RETRY_MS = 2000;
  /** Playback that should be moving but has not for this long is rebuilt from scratch. */
  var STALL_MS = 10000;
  var MAX_NETWORK_RETRIES = 3;

  var video = document.getElementById('video');
  if (!video || !window.RelayPlayerShell) return;
  var src = video.getAttribute('data-src');
  var lowLatency = video.getAttribute('data-low-latency') === '1';
  var params = new URLSearchParams(location.search);
  var forced = params.get('engine');
  var native = !!video.canPlayType('application/vnd.apple.mpegurl');
  var hlsJs = !!(window.Hls && window.Hls.isSupported());
  // LL-HLS needs blocking playlist reloads and parts, which hls.js does; native players differ, so hls.js first.
  var preferred = lowLatency && hlsJs ? 'hlsjs' : native ? 'native' : 'hlsjs';
  var engine = forced === 'native' || forced === 'hlsjs' ? forced : preferred;
  if (engine === 'hlsjs' && !hlsJs) engine = native ? 'native' : 'none';

  var shell = window.RelayPlayerShell(engine, STALL_MS);
  if (!shell) return;
  shell.info.lowLatency = lowLatency;
  var retryTimer = 0;
  var hls = null;
  var networkRetries = 0;
  var mediaRecoveries = 0;

  /**
   * hls.js settings: LL-HLS streams chase the playlist's PART-HOLD-BACK; others stay two segments behind. Both play up
   * to 1.5x to get back to that distance after a stall (hls.js's default plays at 1x and stays as far behind as it fell).
   */
  /** How far past its target latency an LL-HLS player may fall before it jumps back to the live edge, seconds. */
  var LL_MAX_EXTRA_LATENCY_S = 1.5;
  var HLS_CONFIG = lowLatency
    ? { lowLatencyMode: true, maxLiveSyncPlaybackRate: 1.5, backBufferLength: 30 }
    : { lowLatencyMode: false, liveSyncDurationCount: 2, liveMaxLatencyDurationCount: 6, maxLiveSyncPlaybackRate: 1.5, backBufferLength: 30 };

  function schedule(fn, ms) {
    clearTimeout(retryTimer);
    retryTimer = setTimeout(fn, ms);
  }

  function stop() {
    clearTimeout(retryTimer);
    if (hls) {
      hls.destroy();
      hls = null;
    }
    if (engine === 'native') {
      video.removeAttribute('src');
      video.load();
    }
  }
  var rebuild = shell.rebuild;

  function startHlsJs() {
    var Hls = window.Hls;
    hls = new Hls(HLS_CONFIG);
    // For tests and dashboards: the mode hls.js actually runs in.
    shell.info.lowLatencyMode = hls.config.lowLatencyMode;
    var session = hls;
    networkRetries = 0;
    mediaRecoveries = 0;
    hls.on(Hls.Events.MANIFEST_PARSED, function () { shell.play(); });
    hls.on(Hls.Events.FRAG_BUFFERED, function () { networkRetries = 0; });
    // hls.js speeds up only when it is near its target latency; further behind (a stall, a slow start) it would stay
    // there, so an LL-HLS player jumps back to the live edge instead.
    if (lowLatency) hls.on(Hls.Events.LEVEL_UPDATED, function () {
      if (session !== hls || video.paused || hls.liveSyncPosition === null || hls.targetLatency === null) return;
      if (hls.latency > hls.targetLatency + LL_MAX_EXTRA_LATENCY_S) video.currentTime = hls.liveSyncPosition;
    });
    hls.on(Hls.Events.ERROR, function (event, data) {
      if (session !== hls) return;
      // 410 Gone: the signed link has expired; retrying cannot help until the page is handed a fresh token.
      if (data.response && data.response.code === 410) return shell.expire();
      if (!data.fatal) return;
      shell.note(data.type + ': ' + data.details);
      shell.setPhase('reconnecting');
      // hls.js's documented recovery: retry loading on network errors, recover the media element on media errors,
      // and start over on anything else (or when the cheap cures keep failing).
      if (data.type === Hls.ErrorTypes.NETWORK_ERROR && networkRetries < MAX_NETWORK_RETRIES) {
        networkRetries++;
        schedule(function () { if (session === hls) hls.startLoad(); }, RETRY_MS * networkRetries);
      } else if (data.type === Hls.ErrorTypes.MEDIA_ERROR && mediaRecoveries < 2) {
        mediaRecoveries++;
        hls.recoverMediaError();
      } else {
        // hls.js goes on with its own work after this handler returns (an append error is raised mid-append), so
        // the instance is not destroyed here: it is cut off now and thrown away, then rebuilt, on the next turn.
        var failed = hls;
        hls = null;
        setTimeout(function () {
          failed.destroy();
          rebuild(data.details);
        }, 0);
      }
    });
    hls.loadSource(shell.source(src));
    hls.attachMedia(video);
  }

  function startNative() {
    video.src = shell.source(src);
    shell.play();
  }

  function start() {
    if (engine === 'none') return shell.setPhase('unsupported', 'this browser cannot play HLS');
    if (engine === 'hlsjs') startHlsJs();
    else startNative();
  }

  video.addEventListener('error', function () {
    if (engine === 'native' && !shell.rebuilding && video.getAttribute('src')) rebuild('media error ' + (video.error && video.error.code));
  });
  video.addEventListener('play', function () {
    // Back from a pause: jump to the live edge rather than play old video.
    if (hls && hls.liveSyncPosition && video.currentTime < hls.liveSyncPosition - 10) video.currentTime = hls.liveSyncPosition;
  });
  video.addEventListener('playing', function () { shell.setPhase('connecting'); });

  shell.session = { start: start, stop: stop, retryMs: RETRY_MS };
  start();
});
