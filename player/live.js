// The relay's WebSocket player: plays <video data-src="/NAME.ws"> with the lowest delay a browser allows. Where
// WebCodecs exists it asks for raw access units, decodes them with a VideoDecoder (optimizeForLatency) and draws each
// frame to a canvas the moment it is decoded; a decoder that falls behind skips to the next keyframe. Elsewhere it asks
// for fMP4 and plays it through Media Source Extensions (ManagedMediaSource on iPhones), chasing the live edge.
// player-shell.js (loaded first) owns the states, messages, reconnect watchdog and embed messaging.
(function () {
  'use strict';
  var RETRY_MS = 1500;
  /** A live stream delivers a frame every fraction of a second: this long without one is a dead session. */
  var STALL_MS = 6000;
  /** Chunks waiting in the decoder beyond which it is behind: what is queued is dropped up to the next keyframe. */
  var MAX_DECODE_QUEUE = 3;
  /** MSE: buffered video ahead of the playhead beyond which it jumps to the live edge, and where it lands. */
  var MSE_MAX_AHEAD_S = 0.5;
  var MSE_TARGET_AHEAD_S = 0.1;
  /** Codecs offered in the hello: the relay's encoder writes H.264 in one of these profiles. */
  var CODECS = ['avc1.640033', 'avc1.64001f', 'avc1.4d401f', 'avc1.42e01f', 'h264'];

  var video = document.getElementById('video');
  if (!video || !window.RelayPlayerShell) return;
  var src = video.getAttribute('data-src');
  var webcodecs = typeof window.VideoDecoder === 'function' && typeof window.EncodedVideoChunk === 'function';
  var MediaSourceType = window.ManagedMediaSource || window.MediaSource;
  var engine = webcodecs ? 'webcodecs' : MediaSourceType ? 'mse-ws' : 'none';
  var shell = window.RelayPlayerShell(engine, STALL_MS);
  if (!shell) return;
  var info = shell.info;
  info.framesPainted = 0;
  info.framesSkipped = 0;

  var canvas = null;
  var context = null;
  if (engine === 'webcodecs') {
    canvas = document.createElement('canvas');
    canvas.id = 'canvas';
    canvas.className = 'player-canvas';
    video.parentNode.insertBefore(canvas, video);
    video.hidden = true;
    context = canvas.getContext('2d');
  }

  var socket = null;
  var decoder = null;
  var mediaSource = null;
  var sourceBuffer = null;
  var queue = [];

  function wsUrl() {
    var url = new URL(shell.source(src));
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    return url.href;
  }

  function bytesOfBase64(text) {
    var binary = atob(text);
    var out = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
    return out;
  }

  function stop() {
    var old = socket;
    socket = null;
    if (old) old.close();
    if (decoder && decoder.state !== 'closed') decoder.close();
    decoder = null;
    sourceBuffer = null;
    queue = [];
    if (mediaSource) {
      mediaSource = null;
      video.removeAttribute('src');
      video.load();
    }
  }

  /** Opens the WebSocket; `onConfig` and `onMedia` get the config messages and the binary ones. */
  function connect(mode, onConfig, onMedia) {
    var ws = new WebSocket(wsUrl());
    socket = ws;
    ws.binaryType = 'arraybuffer';
    ws.onopen = function () {
      ws.send(JSON.stringify({ version: 1, mode: mode, codecs: CODECS }));
    };
    ws.onmessage = function (event) {
      if (socket !== ws) return;
      if (typeof event.data !== 'string') return onMedia(event.data);
      var message = JSON.parse(event.data);
      if (message.type === 'config') onConfig(message);
      else if (message.type === 'error') shell.note('relay: ' + message.message);
    };
    // The relay closes when the stream ends (camera gone, reload) or refuses the upgrade (full, expired link):
    // start over; the shell's state poll says why, and stops on an expired link.
    ws.onclose = function (event) {
      if (socket === ws) shell.rebuild('connection closed (' + event.code + ')');
    };
  }

  function startWebCodecs() {
    var waitingForKey = true;
    connect('raw', function (config) {
      if (decoder && decoder.state !== 'closed') decoder.close();
      canvas.width = config.width;
      canvas.height = config.height;
      var own = new VideoDecoder({
        output: function (frame) {
          // Drawn as soon as it is decoded: nothing waits behind a newer frame.
          context.drawImage(frame, 0, 0, canvas.width, canvas.height);
          frame.close();
          info.framesPainted++;
          shell.painted();
        },
        error: function (error) {
          if (decoder === own) shell.rebuild('decoder: ' + error.message);
        },
      });
      own.configure({ codec: config.codec, description: bytesOfBase64(config.description), optimizeForLatency: true });
      decoder = own;
      waitingForKey = true;
    }, function (data) {
      if (!decoder || decoder.state !== 'configured' || data.byteLength < 12) return;
      var view = new DataView(data);
      var keyframe = (view.getUint8(1) & 1) === 1;
      if (decoder.decodeQueueSize > MAX_DECODE_QUEUE && !keyframe) waitingForKey = true;
      if (waitingForKey && !keyframe) {
        info.framesSkipped++;
        return;
      }
      waitingForKey = false;
      var timestamp = Number(view.getBigUint64(4));
      decoder.decode(new EncodedVideoChunk({ type: keyframe ? 'key' : 'delta', timestamp: timestamp, data: new Uint8Array(data, 12) }));
    });
  }

  function pump() {
    if (!sourceBuffer || sourceBuffer.updating || queue.length === 0) return;
    try {
      sourceBuffer.appendBuffer(queue.shift());
    } catch (error) {
      shell.rebuild('append: ' + error.message);
    }
  }

  /** Keeps MSE playback at the live edge: a backlog (start-up group, a hidden tab) is jumped over, old video removed. */
  function chaseLiveEdge() {
    var buffered = video.buffered;
    if (!sourceBuffer || sourceBuffer.updating || buffered.length === 0) return;
    var end = buffered.end(buffered.length - 1);
    if (end - video.currentTime > MSE_MAX_AHEAD_S) video.currentTime = end - MSE_TARGET_AHEAD_S;
    if (video.currentTime - buffered.start(0) > 30) sourceBuffer.remove(buffered.start(0), video.currentTime - 10);
  }

  function startMse() {
    var own = new MediaSourceType();
    mediaSource = own;
    video.disableRemotePlayback = true; // ManagedMediaSource plays only with remote playback off
    video.src = URL.createObjectURL(own);
    own.addEventListener('sourceopen', function () {
      if (mediaSource !== own) return;
      connect('fmp4', function (config) {
        if (sourceBuffer) return; // a restarted encoder sends a new init segment, appended like any other
        sourceBuffer = own.addSourceBuffer(config.mime);
        sourceBuffer.addEventListener('updateend', function () {
          chaseLiveEdge();
          pump();
        });
      }, function (data) {
        queue.push(data);
        pump();
      });
    });
    shell.play();
  }

  function start() {
    if (engine === 'none') return shell.setPhase('unsupported', 'this browser cannot play this stream (no WebCodecs, no Media Source Extensions)');
    if (engine === 'webcodecs') return startWebCodecs();
    startMse();
  }

  video.addEventListener('playing', function () { shell.setPhase('connecting'); });
  shell.session = { start: start, stop: stop, retryMs: RETRY_MS };
  start();
})();
