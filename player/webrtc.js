// The relay's WebRTC player: plays <video data-whep="/STREAM/whep"> over WHEP (an SDP offer POSTed, the answer applied,
// the session DELETEd when it ends), rebuilt from scratch when the connection fails or stalls (a camera or encoder
// restart, a reload). player-shell.js (loaded first) owns autoplay, the label and the watchdog.
//
// On the HLS and FLV pages (the video also has data-src) WebRTC is tried first: the page's own player script, loaded
// after this one, hands its start to window.RelayWebRtcFirst, which calls it when WebRTC cannot play here (no
// RTCPeerConnection, the offer refused, or ICE not connected within FALLBACK_MS: UDP blocked, a NAT in the way).
(function () {
  'use strict';
  var RETRY_MS = 1500;
  /** WebRTC delivers a frame every fraction of a second: this long without progress is a dead session. */
  var STALL_MS = 6000;
  /** ICE gathering is waited for this long before the offer goes out with the candidates found so far. */
  var GATHER_MS = 1000;
  /** A connection not made this long after the offer gives way to the page's own player. */
  var FALLBACK_MS = 4000;

  var video = document.getElementById('video');
  if (!video || !window.RelayPlayerShell) return;
  var whep = video.getAttribute('data-whep');
  if (!whep) return;
  var iceServers = [];
  try {
    iceServers = JSON.parse(video.getAttribute('data-ice-servers') || '[]');
  } catch (error) {
    iceServers = [];
  }
  var hasFallback = !!video.getAttribute('data-src');
  var engine = window.RTCPeerConnection ? 'webrtc' : 'none';

  function main(fallback) {
    var shell = window.RelayPlayerShell(engine, STALL_MS);
    if (!shell) return;
    var peer = null;
    var sessionUrl = null;
    var fallbackTimer = 0;
    var gaveWay = false;

    function stop() {
      clearTimeout(fallbackTimer);
      if (sessionUrl) fetch(sessionUrl, { method: 'DELETE' }).catch(function () {});
      sessionUrl = null;
      if (peer) peer.close();
      peer = null;
      video.srcObject = null;
    }

    /** WebRTC cannot play here: the page's own player takes over for good. */
    function giveWay(reason) {
      if (gaveWay) return;
      gaveWay = true;
      shell.note('WebRTC: ' + reason);
      shell.info.webrtcFailure = reason;
      stop();
      window.removeEventListener('pagehide', stop);
      fallback();
    }

    /** On a page with another player, a failure before the first connection is handed over; after it, retried. */
    function failed(reason, connected) {
      if (fallback && !connected) giveWay(reason);
      else shell.rebuild(reason);
    }

    function gathered(connection) {
      return new Promise(function (resolve) {
        if (connection.iceGatheringState === 'complete') return resolve();
        var timer = setTimeout(resolve, GATHER_MS);
        connection.addEventListener('icegatheringstatechange', function () {
          if (connection.iceGatheringState !== 'complete') return;
          clearTimeout(timer);
          resolve();
        });
      });
    }

    function start() {
      if (engine === 'none') return shell.setPhase('unsupported', 'this browser cannot play this stream (no WebRTC)');
      var connection = new RTCPeerConnection({ iceServers: iceServers });
      var connected = false;
      peer = connection;
      connection.addTransceiver('video', { direction: 'recvonly' });
      // The relay answers the audio section with Opus when the stream may have sound, else leaves it inactive.
      connection.addTransceiver('audio', { direction: 'recvonly' });
      var media = null;
      connection.addEventListener('track', function (event) {
        if (connection !== peer) return;
        // Both tracks belong to one stream (one msid): played as one MediaStream, the browser keeps them in step.
        var stream = event.streams[0];
        if (!media) media = stream || new MediaStream();
        if (media.getTracks().indexOf(event.track) < 0) media.addTrack(event.track);
        if (video.srcObject !== media) video.srcObject = media;
        if (event.track.kind === 'audio') showSoundWhenItComes(event.track);
        shell.play();
      });
      // The relay answers with sound while the camera may have some (an on-demand camera is only starting): the track
      // unmutes on its first packet, and only then does the page offer the unmute button; a silent camera's never does.
      function showSoundWhenItComes(track) {
        if (!track.muted) return shell.setAudio(true);
        track.addEventListener('unmute', function () {
          if (connection === peer) shell.setAudio(true);
        }, { once: true });
      }
      connection.addEventListener('connectionstatechange', function () {
        if (connection !== peer) return;
        var state = connection.connectionState;
        if (state === 'connected') {
          connected = true;
          clearTimeout(fallbackTimer);
        }
        if (state === 'failed' || state === 'closed') failed('connection ' + state, connected);
      });
      if (fallback) fallbackTimer = setTimeout(function () {
        if (connection === peer && !connected) giveWay('not connected within ' + FALLBACK_MS / 1000 + ' s');
      }, FALLBACK_MS);
      connection.createOffer()
        .then(function (offer) { return connection.setLocalDescription(offer); })
        .then(function () { return gathered(connection); })
        .then(function () {
          return fetch(shell.source(whep), { method: 'POST', headers: { 'Content-Type': 'application/sdp' }, body: connection.localDescription.sdp });
        })
        .then(function (response) {
          if (connection !== peer) return;
          // 410 Gone: the signed link has expired; retrying cannot help until the page is handed a fresh token.
          if (response.status === 410) return shell.expire();
          if (response.status !== 201) throw new Error('WHEP offer answered ' + response.status);
          sessionUrl = new URL(response.headers.get('Location'), location.href).href;
          return response.text().then(function (answer) { return connection.setRemoteDescription({ type: 'answer', sdp: answer }); });
        })
        .catch(function (error) {
          if (connection === peer) failed(String(error), connected);
        });
    }

    video.addEventListener('playing', function () { if (!gaveWay) shell.setPhase('connecting'); });
    window.addEventListener('pagehide', stop);
    shell.session = { start: start, stop: stop, retryMs: RETRY_MS };
    start();
  }

  if (!hasFallback) return main(null);
  /** Called by the page's own player script with its start: WebRTC first where this browser has it. */
  window.RelayWebRtcFirst = function (fallback) {
    // ?engine=NAME asks for the page's own player by name (player.js: native, hlsjs).
    var forced = new URLSearchParams(location.search).get('engine');
    if (engine === 'none' || (forced && forced !== 'webrtc')) return fallback();
    main(fallback);
  };
})();
