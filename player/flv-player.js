// The relay's FLV player: plays <video data-src="STREAM.flv"> with mpegts.js over MSE, tuned for latency (no stash
// buffer, no lazy load, the buffer chased back to a bound), and rebuilt from scratch after an error or a stall (a
// camera or ffmpeg restart ends or freezes the FLV connection). Where MSE is missing (older iPhones) it plays the
// camera's HLS stream (data-fallback) natively. player-shell.js (loaded first) owns autoplay, the label and the watchdog.
// WebRTC first where the stream offers it (webrtc.js, loaded before this script, calls back when it cannot play).
(function (main) {
  if (window.RelayWebRtcFirst) window.RelayWebRtcFirst(main);
  else main();
})(function () {
  'use strict';
  var RETRY_MS = 1500;
  /** A live FLV stream delivers a frame every fraction of a second: this long without progress is a dead session. */
  var STALL_MS = 6000;
  /**
   * mpegts.js live settings (1.8): no stash buffer and no lazy load, so each FLV tag goes to the video as it arrives.
   * What remains is the video element's own buffer: liveSync plays at 1.1x while more than 0.15 s is buffered ahead of
   * the playhead and back at 1x at 0.1 s (a tenth faster is not seen; it drains the start-up group and any backlog
   * in a few seconds without a stall), and latency chasing jumps when more than 0.6 s has piled up (after a stall or
   * a hidden tab), leaving 0.15 s: 3-4 frames at 25 fps, enough to ride out delivery jitter.
   */
  var FLV_CONFIG = {
    isLive: true,
    enableWorker: false,
    enableStashBuffer: false,
    lazyLoad: false,
    liveSync: true,
    liveSyncTargetLatency: 0.1,
    liveSyncMaxLatency: 0.15,
    liveSyncPlaybackRate: 1.1,
    liveBufferLatencyChasing: true,
    liveBufferLatencyMaxLatency: 0.6,
    liveBufferLatencyMinRemain: 0.15,
    autoCleanupSourceBuffer: true,
  };

  var video = document.getElementById('video');
  if (!video || !window.RelayPlayerShell) return;
  var src = new URL(video.getAttribute('data-src'), location.href).href;
  var fallback = video.getAttribute('data-fallback');
  var mpegts = window.mpegts;
  var mse = !!(mpegts && mpegts.isSupported() && mpegts.getFeatureList().mseLivePlayback);
  var nativeHls = !!video.canPlayType('application/vnd.apple.mpegurl');
  var engine = mse ? 'mpegts' : fallback && nativeHls ? 'hls-fallback' : 'none';

  var shell = window.RelayPlayerShell(engine, STALL_MS);
  if (!shell) return;
  var player = null;
  /** An instance cut off from the page but not yet destroyed, and the timer that destroys it. */
  var retiring = null;
  var retireTimer = 0;

  /**
   * Stops listening to the playing instance at once, destroying it only on a later turn: mpegts.js goes on with its own
   * work after an ERROR or LOADING_COMPLETE handler returns (the rest of an append, the events it deferred with
   * Promise.resolve()), and all of that reads what destroy() clears (mpegts.js#63): a synchronous destroy() there threw
   * "Cannot read properties of null" into the page.
   */
  function destroy() {
    if (!player) return;
    finishRetiring();
    retiring = player;
    player = null;
    try {
      retiring.pause();
    } catch (error) {
      shell.note('pause: ' + error);
    }
    retireTimer = setTimeout(finishRetiring, 0);
  }

  /** Destroys the cut-off instance now (from a turn of its own, or before a new instance takes the video). */
  function finishRetiring() {
    clearTimeout(retireTimer);
    if (!retiring) return;
    var old = retiring;
    retiring = null;
    try {
      old.unload();
      old.detachMediaElement();
      old.destroy();
    } catch (error) {
      shell.note('destroy: ' + error);
    }
  }

  function stop() {
    destroy();
    if (engine === 'hls-fallback') {
      video.removeAttribute('src');
      video.load();
    }
  }
  var rebuild = shell.rebuild;

  function startMpegts() {
    // The video is never shared: a cut-off instance still holding it lets go first.
    finishRetiring();
    // Whether there is sound is the stream's FLV header's to say (the relay announces AAC only where the camera has it).
    var session = mpegts.createPlayer({ type: 'flv', isLive: true, url: shell.source(src), hasVideo: true }, FLV_CONFIG);
    player = session;
    session.on(mpegts.Events.MEDIA_INFO, function (info) {
      if (session === player && info && info.hasAudio) shell.setAudio(true);
    });
    session.on(mpegts.Events.ERROR, function (type, detail, info) {
      if (session !== player) return;
      // 410 Gone: the signed link has expired; retrying cannot help until the page is handed a fresh token.
      if (info && info.code === 410) return shell.expire();
      rebuild(type + ': ' + detail);
    });
    // The relay ends the response when the stream stops (camera gone, config reloaded): start over.
    session.on(mpegts.Events.LOADING_COMPLETE, function () {
      if (session === player) rebuild('stream ended');
    });
    session.attachMediaElement(video);
    session.load();
    shell.play();
  }

  function start() {
    if (engine === 'none') return shell.setPhase('unsupported', 'this browser cannot play this stream (no Media Source Extensions)');
    if (engine === 'mpegts') return startMpegts();
    video.src = fallback;
    shell.play();
  }

  video.addEventListener('error', function () {
    if (engine === 'hls-fallback' && !shell.rebuilding && video.getAttribute('src')) rebuild('media error ' + (video.error && video.error.code));
  });
  video.addEventListener('playing', function () { shell.setPhase('connecting'); });
  shell.session = { start: start, stop: stop, retryMs: RETRY_MS };
  if (mpegts && mpegts.LoggingControl) mpegts.LoggingControl.applyConfig({ enableVerbose: false, enableInfo: false, enableDebug: false });

  start();
});
