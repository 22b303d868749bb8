// What every relay player page shares, whatever plays the video (native HLS, hls.js, mpegts.js): starting muted and
// playing, the unmute control, the one-line state shown over the video, the stream's state read from the relay
// (so a camera that is down says so instead of "connecting…"), and the watchdog that rebuilds a stalled player.
// window.RelayPlayerShell(engine, stallMs) returns the shell; the engine script sets shell.session to
// { start, stop, retryMs } (how to begin and end one playing session), calls shell.rebuild(reason) to start over,
// shell.setPhase('connecting' | 'reconnecting' | 'unsupported' | 'expired', text), shell.setAudio(true) when the media
// has sound, and plays shell.source(url) (the URL with the freshest viewer token the page was handed).
//
// An embedding page talks to the player with postMessage: it receives { type: 'relay-player-state', state, text } on
// every change of state (e.g. state 'expired' when the signed link ran out) and may send
// { type: 'relay-player-token', token } with a fresh viewer token, which the player plays on with at once.
(function () {
  'use strict';
  /** How often the stream's state is asked for while the video is not playing. */
  var STATE_POLL_MS = 2000;
  /** Playback counts as moving if the video's clock advanced this recently. */
  var MOVING_MS = 1500;
  /** A viewer token as the relay signs them (relay/auth/viewer-token.ts): EXPIRY.SIGNATURE. */
  var TOKEN = /^\d{1,12}\.[A-Za-z0-9_-]{43}$/;

  window.RelayPlayerShell = function (engine, stallMs) {
    // A second engine on the same page (WebRTC gave way to the page's own player) takes over the one shell.
    if (window.relayPlayerShell) return window.relayPlayerShell.handOver(engine, stallMs);
    var video = document.getElementById('video');
    var box = document.getElementById('player');
    var label = document.getElementById('player-state');
    var unmute = document.getElementById('player-unmute');
    if (!video || !box) return null;
    var stateUrl = box.getAttribute('data-state-url');

    // For tests and dashboards: what the player is doing, read-only.
    var info = { engine: engine, state: 'connecting', rebuilds: 0, errors: [], stream: null, hasAudio: false };
    window.relayPlayer = info;

    var phase = 'connecting';
    var phaseText = '';
    var lastTime = -1;
    var lastProgressAt = Date.now();
    var server = null;
    var polling = false;
    var rebuildTimer = 0;
    var hasAudio = false;
    /** The engine draws frames itself (shell.painted), so progress is not the video element's. */
    var painting = false;
    /** A fresh viewer token handed over by the embedding page, replacing the one in the page's URLs. */
    var freshToken = null;

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
      /** The media has a sound track: only then is there something to unmute. */
      setAudio: function (present) {
        hasAudio = hasAudio || !!present;
        info.hasAudio = hasAudio;
        render();
      },
      /** `url` with the freshest viewer token (unchanged when the page was handed none), absolute. */
      source: function (url) {
        var absolute = new URL(url, location.href);
        if (freshToken) absolute.searchParams.set('token', freshToken);
        return absolute.href;
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
      /** For engines that draw to a canvas instead of the video (WebCodecs): a frame was shown now. */
      painted: function () {
        painting = true;
        lastTime = Date.now();
        lastProgressAt = lastTime;
        if (info.state !== 'playing') render();
      },
      /** Gives the page to another engine, whose script sets shell.session and starts it; returns the shell. */
      handOver: function (next, nextStallMs) {
        clearTimeout(rebuildTimer);
        shell.rebuilding = false;
        info.engine = next;
        stallMs = nextStallMs;
        phase = 'connecting';
        phaseText = '';
        shell.restarted();
        render();
        return shell;
      },
      /** Marks the start of a fresh session, so the watchdog gives it its full time. */
      restarted: function () {
        lastProgressAt = Date.now();
        lastTime = -1;
      },
    };

    function hasBuffered() {
      return painting || video.buffered.length > 0 && video.buffered.end(video.buffered.length - 1) > 0;
    }

    function moving() {
      return (painting || !video.paused) && Date.now() - lastProgressAt < MOVING_MS && lastTime >= 0;
    }

    /** The one state shown, in order of what matters to the viewer. */
    function current() {
      if (phase === 'unsupported') return ['unsupported', phaseText];
      if (phase === 'expired') return ['expired', phaseText || 'link expired'];
      if (moving()) return ['playing', 'live'];
      if (server && server.state !== 'live') return ['down', server.text];
      if (phase === 'reconnecting') return ['reconnecting', 'reconnecting…'];
      if (!shell.wantPlaying) return ['paused', hasBuffered() ? 'paused: press play' : 'press play'];
      if (!hasBuffered()) return ['connecting', 'connecting…'];
      return ['buffering', 'buffering…'];
    }

    function render() {
      var now = current();
      var changed = info.state !== now[0] || (label && label.textContent !== now[1]);
      info.state = now[0];
      box.setAttribute('data-state', now[0]);
      if (label && label.textContent !== now[1]) label.textContent = now[1];
      if (unmute) unmute.hidden = !(video.muted && hasAudio);
      if (changed) tellEmbedder(now[0], now[1]);
      if (now[0] !== 'playing' && now[0] !== 'expired' && !polling) pollState();
    }

    /** Tells the page that embeds this player (if any) what the viewer sees now. */
    function tellEmbedder(state, text) {
      if (window.parent === window) return;
      try {
        window.parent.postMessage({ type: 'relay-player-state', state: state, text: text }, '*');
      } catch (error) {
        shell.note('postMessage: ' + error);
      }
    }

    /** The link ran out: stop asking (every request would be refused) until the embedding page hands a fresh token. */
    function expire() {
      if (phase === 'expired') return;
      clearTimeout(rebuildTimer);
      shell.rebuilding = false;
      shell.session.stop();
      shell.setPhase('expired', 'link expired');
    }
    shell.expire = expire;

    /** Plays on with a fresh viewer token: the state URL and the next session use it. */
    function useToken(token) {
      if (typeof token !== 'string' || !TOKEN.test(token)) return shell.note('refused a malformed token');
      freshToken = token;
      if (stateUrl) stateUrl = shell.source(stateUrl);
      server = null;
      if (phase === 'expired') phase = 'connecting';
      shell.rebuild('fresh token');
    }

    window.addEventListener('message', function (event) {
      var data = event.data;
      if (data && data.type === 'relay-player-token') useToken(data.token);
    });

    /** Asks the relay how the stream is (only while not playing: a playing video says enough by itself). */
    function pollState() {
      if (!stateUrl || polling) return;
      polling = true;
      fetch(stateUrl, { cache: 'no-store' })
        .then(function (response) {
          // 410: the viewer token in the page's links has expired (relay/auth/access.ts).
          if (response.status === 410) return { expired: true };
          return response.ok ? response.json() : null;
        })
        .catch(function () { return null; })
        .then(function (state) {
          if (state && state.expired) {
            polling = false;
            server = null;
            return expire();
          }
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
    // What the browser decoded tells whether there is sound, whatever engine feeds the video.
    function detectAudio() {
      if ((video.audioTracks && video.audioTracks.length > 0) || video.mozHasAudio || video.webkitAudioDecodedByteCount > 0) shell.setAudio(true);
    }
    video.addEventListener('loadedmetadata', detectAudio);
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
      if (!hasAudio) detectAudio();
      if (video.currentTime !== lastTime) {
        lastTime = video.currentTime;
        lastProgressAt = Date.now();
      }
      render();
    });

    // The watchdog: a stream that should be moving and is not gets rebuilt, whatever went wrong underneath.
    setInterval(function () {
      render();
      if (!shell.wantPlaying || shell.rebuilding || phase === 'unsupported' || phase === 'expired') return;
      if (Date.now() - lastProgressAt > stallMs) shell.rebuild('stalled');
    }, 1000);

    render();
    window.relayPlayerShell = shell;
    return shell;
  };
})();
