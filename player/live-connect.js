// Opens the WebSocket player's connection and says hello. Loaded right after the page's <video> (not deferred), it starts the
// first connection while the player's own scripts are still loading, so that the config and the kept keyframe group
// are already in the page when live.js takes over (window.RelayLiveConnect); live.js also calls it to reconnect.
(function () {
  'use strict';
  /** Codecs offered in the hello: the relay's encoder writes H.264 in one of these profiles. */
  var CODECS = ['avc1.640033', 'avc1.64001f', 'avc1.4d401f', 'avc1.42e01f', 'h264'];

  /**
   * A socket to `url` that sends the hello for `mode` once open and keeps what comes before anyone listens.
   * `take(onMessage, onClose)` hands the kept messages (and a close that came meanwhile) over, then forwards.
   */
  function open(url, mode) {
    var ws = new WebSocket(url);
    ws.binaryType = 'arraybuffer';
    var kept = [];
    var closed = null;
    var listener = null;
    var closeListener = null;
    ws.onopen = function () {
      ws.send(JSON.stringify({ version: 1, mode: mode, codecs: CODECS }));
    };
    ws.onmessage = function (event) {
      if (listener) listener(event.data);
      else kept.push(event.data);
    };
    ws.onclose = function (event) {
      if (closeListener) closeListener(event);
      else closed = event;
    };
    return {
      socket: ws,
      mode: mode,
      url: url,
      take: function (onMessage, onClose) {
        listener = onMessage;
        closeListener = onClose;
        var backlog = kept;
        kept = [];
        for (var i = 0; i < backlog.length; i++) onMessage(backlog[i]);
        if (closed) onClose(closed);
      },
    };
  }

  function absoluteWs(url) {
    var absolute = new URL(url, location.href);
    absolute.protocol = absolute.protocol === 'https:' ? 'wss:' : 'ws:';
    return absolute.href;
  }

  var early = null;
  var video = document.getElementById('video');
  var src = video && video.getAttribute('data-src');
  var webcodecs = typeof window.VideoDecoder === 'function' && typeof window.EncodedVideoChunk === 'function';
  var mse = !!(window.ManagedMediaSource || window.MediaSource);
  if (src && (webcodecs || mse)) early = open(absoluteWs(src), webcodecs ? 'raw' : 'fmp4');

  /** The connection for `url` (an http(s) or ws(s) URL) in `mode`: the one opened early when it fits, else a new one. */
  window.RelayLiveConnect = function (url, mode) {
    var wanted = absoluteWs(url);
    var fits = early && early.mode === mode && early.url === wanted;
    var connection = fits ? early : open(wanted, mode);
    if (early && !fits) early.socket.close();
    early = null;
    return connection;
  };
})();
