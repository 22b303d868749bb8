// The recordings page: places the timeline's spans and hour marks (their percentages come as data attributes, since
// the Content-Security-Policy refuses inline style attributes but not styles set from a script), and plays a span
// through /record/get when it (or its line in the list) is clicked.
(function () {
  'use strict';
  var timeline = document.querySelector('.timeline');
  var video = document.getElementById('playback');
  if (!timeline || !video) return;
  var camera = timeline.getAttribute('data-camera');
  Array.prototype.forEach.call(timeline.querySelectorAll('[data-left]'), function (element) {
    element.style.left = Number(element.getAttribute('data-left')) + '%';
    if (element.hasAttribute('data-width')) element.style.width = Number(element.getAttribute('data-width')) + '%';
  });
  timeline.classList.add('placed');
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
