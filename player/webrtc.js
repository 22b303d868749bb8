// The relay's WebRTC player: plays <video data-whep="/STREAM/whep"> over WHEP (an SDP offer POSTed, the answer applied,
// the session DELETEd when it ends), rebuilt from scratch when the connection fails or stalls (a camera or encoder
// restart, a reload). player-shell.js (loaded first) owns autoplay, the label and the watchdog.
(function () {
  'use strict';
  var RETRY_MS = 1500;
  /** WebRTC delivers a frame every fraction of a second: this long without progress is a dead session. */
  var STALL_MS = 6000;
  /** ICE gathering is waited for this long before the offer goes out with the candidates found so far. */
  var GATHER_MS = 1000;

  var video = document.getElementById('video');
  if (!video || !window.RelayPlayerShell) return;
  var whep = video.getAttribute('data-whep');
  var engine = window.RTCPeerConnection ? 'webrtc' : 'none';
  var shell = window.RelayPlayerShell(engine, STALL_MS);
  if (!shell) return;
  var peer = null;
  var sessionUrl = null;

  function stop() {
    if (sessionUrl) fetch(sessionUrl, { method: 'DELETE' }).catch(function () {});
    sessionUrl = null;
    if (peer) peer.close();
    peer = null;
    video.srcObject = null;
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
    var connection = new RTCPeerConnection();
    peer = connection;
    connection.addTransceiver('video', { direction: 'recvonly' });
    connection.addEventListener('track', function (event) {
      if (connection !== peer) return;
      video.srcObject = event.streams[0] || new MediaStream([event.track]);
      shell.play();
    });
    connection.addEventListener('connectionstatechange', function () {
      if (connection !== peer) return;
      if (connection.connectionState === 'failed' || connection.connectionState === 'closed') shell.rebuild('connection ' + connection.connectionState);
    });
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
        if (connection === peer) shell.rebuild(String(error));
      });
  }

  video.addEventListener('playing', function () { shell.setPhase('connecting'); });
  window.addEventListener('pagehide', stop);
  shell.session = { start: start, stop: stop, retryMs: RETRY_MS };
  start();
})();
