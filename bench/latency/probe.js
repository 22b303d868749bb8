// Injected by the latency bench into each page before it loads: finds the page's <video> (or <img id="clock">),
// reads the clock pattern of every new frame shown (bench/latency/pattern.ts draws it) and records
// Date.now() - the time drawn into it: glass-to-glass latency on one machine, one clock.
// window.__clockPattern (geometry and base) is set just before this script.
(function () {
  'use strict';
  var P = window.__clockPattern;
  var MODULO = Math.pow(2, P.bits);
  var ROWS = P.rowB + P.rowHeight;
  // bufferedAhead: ms of video the player holds ahead of the playhead at each new frame; stalls: 'waiting' events.
  var result = { samples: [], bufferedAhead: [], stalls: 0, firstFrameMs: null, frames: 0, unreadable: 0, collect: false };
  window.__latency = result;
  var canvas = null;
  var context = null;
  var lastValue = -1;

  function readRow(data, top) {
    var word = 0;
    for (var bit = 0; bit < P.bits; bit++) {
      var x = P.left + bit * P.blockWidth + P.blockWidth / 2;
      var y = top + P.rowHeight / 2;
      var sum = 0;
      for (var dy = -2; dy <= 2; dy++) for (var dx = -2; dx <= 2; dx++) sum += data[((y + dy) * P.width + x + dx) * 4];
      word = word * 2 + (sum / 25 > 128 ? 1 : 0);
    }
    return word;
  }

  /** The value drawn in the source's current frame, or null when the two rows disagree (a torn or blurred frame). */
  function decode(source, width, height) {
    if (!canvas) {
      canvas = document.createElement('canvas');
      canvas.width = P.width;
      canvas.height = ROWS;
      context = canvas.getContext('2d', { willReadFrequently: true });
    }
    context.drawImage(source, 0, 0, width, (height * ROWS) / P.height, 0, 0, P.width, ROWS);
    var data = context.getImageData(0, 0, P.width, ROWS).data;
    var a = readRow(data, P.rowA);
    var b = readRow(data, P.rowB);
    return (b ^ P.mask) === a ? a : null;
  }

  function observe(source, width, height) {
    var now = Date.now();
    var value = decode(source, width, height);
    if (value === null) {
      result.unreadable++;
      return;
    }
    if (value === lastValue) return;
    lastValue = value;
    result.frames++;
    if (result.firstFrameMs === null) result.firstFrameMs = performance.now();
    if (result.collect) result.samples.push((((now - P.base - value) % MODULO) + MODULO) % MODULO);
  }

  function watchVideo(video) {
    video.addEventListener('waiting', function () { if (result.collect) result.stalls++; });
    if (video.requestVideoFrameCallback) {
      var onFrame = function () {
        if (video.videoWidth) observe(video, video.videoWidth, video.videoHeight);
        if (result.collect && video.buffered.length) result.bufferedAhead.push((video.buffered.end(video.buffered.length - 1) - video.currentTime) * 1000);
        video.requestVideoFrameCallback(onFrame);
      };
      video.requestVideoFrameCallback(onFrame);
      return;
    }
    setInterval(function () { if (video.videoWidth) observe(video, video.videoWidth, video.videoHeight); }, 10);
  }

  function watchImage(img) {
    setInterval(function () { if (img.naturalWidth) observe(img, img.naturalWidth, img.naturalHeight); }, 10);
  }

  // The WebSocket player's WebCodecs engine draws each decoded frame to its #canvas: every such draw is observed.
  var drawImage = CanvasRenderingContext2D.prototype.drawImage;
  CanvasRenderingContext2D.prototype.drawImage = function () {
    var out = drawImage.apply(this, arguments);
    if (this.canvas.id === 'canvas') observe(this.canvas, this.canvas.width, this.canvas.height);
    return out;
  };

  var finder = setInterval(function () {
    var video = document.querySelector('video');
    // A WebSocket player page: its engine decides whether the video or the canvas shows the frames.
    if (video && /\.ws(\?|$)/.test(video.getAttribute('data-src') || '')) {
      if (!window.relayPlayer) return;
      clearInterval(finder);
      if (window.relayPlayer.engine !== 'webcodecs') watchVideo(video);
      return;
    }
    var img = document.getElementById('clock');
    if (video) watchVideo(video);
    else if (img) watchImage(img);
    else return;
    clearInterval(finder);
  }, 5);
})();
