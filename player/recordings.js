// The recordings page: a click on a span of the timeline (or its line in the list) plays it through /record/get.
(function () {
  'use strict';
  var timeline = document.querySelector('.timeline');
  var video = document.getElementById('playback');
  if (!timeline || !video) return;
  var camera = timeline.getAttribute('data-camera');
  document.addEventListener('click', function (event) {
    var target = event.target.closest('[data-start]');
    if (!target) return;
    var url = '/record/get?camera=' + encodeURIComponent(camera) +
      '&start=' + encodeURIComponent(target.getAttribute('data-start')) +
      '&duration=' + encodeURIComponent(target.getAttribute('data-duration'));
    video.src = url;
    var playing = video.play();
    if (playing && playing.catch) playing.catch(function () { /* the user can press play */ });
  });
})();
