// Refreshes each camera's snapshot thumbnail every few seconds. The next image is loaded off-screen and swapped in
// only once it has arrived, so a slow or failed load never blanks the thumbnail.
(function () {
  'use strict';
  var container = document.querySelector('[data-thumbnail-refresh-ms]');
  if (!container) return;
  var period = Number(container.getAttribute('data-thumbnail-refresh-ms')) || 3000;

  function reload(img) {
    if (img.getAttribute('data-loading')) return;
    img.setAttribute('data-loading', '1');
    var next = new Image();
    var url = img.getAttribute('data-refresh');
    next.onload = function () {
      img.src = next.src;
      img.removeAttribute('data-loading');
      img.setAttribute('data-refreshed', String(Date.now()));
      img.classList.remove('stale');
    };
    next.onerror = function () {
      img.removeAttribute('data-loading');
      img.classList.add('stale');
    };
    next.src = url + (url.indexOf('?') < 0 ? '?' : '&') + 't=' + Date.now();
  }

  setInterval(function () {
    if (document.hidden) return;
    Array.prototype.forEach.call(document.querySelectorAll('img[data-refresh]'), reload);
  }, period);
})();
