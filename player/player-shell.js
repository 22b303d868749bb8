// What every relay player page shares, whatever plays the video (native HLS, hls.js, mpegts.js): starting muted and
// playing, the unmute control, the one-line state shown over the video, the stream's state read from the relay
// (so a camera that is down says so instead of "connecting…"), and the watchdog that rebuilds a stalled player.
// window.RelayPlayerShell(engine, stallMs) returns the shell; the engine script sets shell.session to
// { start, stop, retryMs } (how to begin and end one playing session), calls shell.rebuild(reason) to start over,
// and shell.setPhase('connecting' | 'reconnecting' | 'unsupported', text).
(function () {
  'use strict';
  /** How often the stream's state is asked for while the video is not playing. */
  var STATE_POLL_MS = 2000;
  /** Playback counts as moving if the video's clock advanced this recently. */
  var MOVING_MS = 1500;

  window.RelayPlayerShell = function (engine, stallMs) {
    var video = document.getElementById('video');
    var box = document.getElementById('player');
    var label = document.getElementById('player-state');
    var unmute = document.getElementById('player-unmute');
    if (!video || !box) return null;
    var stateUrl = box.getAttribute('data-state-url');

    // For tests and dashboards: what the player is doing, read-only.
    var info = { engine: engine, state: 'connecting', rebuilds: 0, errors: [], stream: null };
    window.relayPlayer = info;

    var phase = 'connecting';
    var phaseText = '';
    var lastTime = -1;
    var lastProgressAt = Date.now();
    var server = null;
    var polling = false;
    var rebuildTimer = 0;

    var shell = {
      video: video,
      info: info,
      /** The viewer wants the video moving: the page's default, until they pause it. */
      wantPlaying: video.autoplay,
      /** True between throwing a session away and starting the next. */
      rebuilding: false,
      /** The engine's session: start() begins playing, stop() throws everything away, retryMs between the two. */
      session: { start: function () {}, stop: function () {}, retryMs: 2000 },
      /** Throws the session away and starts a new one: the last resort, and the cure for a restarted stream. */
      rebuild: function (reason) {
        shell.note(reason);
        info.rebuilds++;
        shell.rebuilding = true;
        shell.setPhase('reconnecting');
        shell.session.stop();
        clearTimeout(rebuildTimer);
        rebuildTimer = setTimeout(function () {
          shell.rebuilding = false;
          shell.restarted();
          shell.session.start();
        }, shell.session.retryMs);
      },
      setPhase: function (next, text) {
        phase = next;
        phaseText = text || '';
        if (next === 'reconnecting') pollState();
        render();
      },
      note: function (error) {
        info.errors.push(String(error));
        if (info.errors.length > 20) info.errors.shift();
      },
      /** Starts playback if wanted; autoplay with sound refused falls back to muted, then to "press play". */
      play: function () {
        if (!shell.wantPlaying) return render();
        var promise = video.play();
        if (!promise || !promise.catch) return;
        promise.catch(function (error) {
          if (!error || error.name !== 'NotAllowedError') return;
          if (!video.muted) {
            video.muted = true;
            shell.play();
            return;
          }
          shell.wantPlaying = false;
          render();
        });
      },
      /** Marks the start of a fresh session, so the watchdog gives it its full time. */
      restarted: function () {
        lastProgressAt = Date.now();
        lastTime = -1;
      },
    };

    function hasBuffered() {
      return video.buffered.length > 0 && video.buffered.end(video.buffered.length - 1) > 0;
    }

    function moving() {
      return !video.paused && Date.now() - lastProgressAt < MOVING_MS && lastTime >= 0;
    }

    /** The one state shown, in order of what matters to the viewer. */
    function current() {
      if (phase === 'unsupported') return ['unsupported', phaseText];
      if (moving()) return ['playing', 'live'];
      if (server && server.state !== 'live') return ['down', server.text];
      if (phase === 'reconnecting') return ['reconnecting', 'reconnecting…'];
      if (!shell.wantPlaying) return ['paused', hasBuffered() ? 'paused: press play' : 'press play'];
      if (!hasBuffered()) return ['connecting', 'connecting…'];
      return ['buffering', 'buffering…'];
    }

    function render() {
      var now = current();
      info.state = now[0];
      box.setAttribute('data-state', now[0]);
      if (label && label.textContent !== now[1]) label.textContent = now[1];
      if (unmute) unmute.hidden = !video.muted;
      if (now[0] !== 'playing' && !polling) pollState();
    }

    /** Asks the relay how the stream is (only while not playing: a playing video says enough by itself). */
    function pollState() {
      if (!stateUrl || polling) return;
      polling = true;
      fetch(stateUrl, { cache: 'no-store' })
        .then(function (response) { return response.ok ? response.json() : null; })
        .catch(function () { return null; })
        .then(function (state) {
          server = state && typeof state.state === 'string' ? { state: state.state, text: String(state.text || state.state) } : null;
          info.stream = server;
          setTimeout(function () {
            polling = false;
            if (info.state !== 'playing') pollState();
          }, STATE_POLL_MS);
          render();
        });
    }

    if (unmute) {
      unmute.addEventListener('click', function () {
        video.muted = false;
        shell.play();
        render();
      });
    }
    video.addEventListener('volumechange', render);
    video.addEventListener('play', function () {
      shell.wantPlaying = true;
      render();
    });
    video.addEventListener('pause', function () {
      if (!shell.rebuilding && !video.ended && document.visibilityState === 'visible') shell.wantPlaying = false;
      render();
    });
    video.addEventListener('waiting', render);
    video.addEventListener('timeupdate', function () {
      if (video.currentTime !== lastTime) {
        lastTime = video.currentTime;
        lastProgressAt = Date.now();
      }
      render();
    });

    // The watchdog: a stream that should be moving and is not gets rebuilt, whatever went wrong underneath.
    setInterval(function () {
      render();
      if (!shell.wantPlaying || shell.rebuilding || phase === 'unsupported') return;
      if (Date.now() - lastProgressAt > stallMs) shell.rebuild('stalled');
    }, 1000);

    render();
    return shell;
  };
})();
