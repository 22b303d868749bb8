// The camera index and the wall: refreshes each camera's snapshot every few seconds, and follows each camera's state
// from /stat.json so a label never says "live" through an outage and a down camera shows its state instead of a
// broken image. The next image is loaded off-screen and swapped in only once it has arrived, so a slow or failed load
// never blanks the picture; no picture is asked for while the camera cannot give one.
(function () {
  'use strict';
  var container = document.querySelector('[data-thumbnail-refresh-ms]');
  if (!container) return;
  var period = Number(container.getAttribute('data-thumbnail-refresh-ms')) || 3000;
  /** How often camera states are read: no more often than /stat.html refreshes itself. */
  var STATE_PERIOD_MS = Math.max(period, 2000);
  /** States in which a camera's picture can be asked for (index-page.ts showsPicture). */
  var PICTURE_STATES = { live: true, idle: true };

  function withFreshQuery(url) {
    return url + (url.indexOf('?') < 0 ? '?' : '&') + 't=' + Date.now();
  }

  function pictureBox(img) {
    return img.parentNode && img.parentNode.classList && img.parentNode.classList.contains('picture') ? img.parentNode : null;
  }

  function reload(img) {
    var box = pictureBox(img);
    if (box && box.getAttribute('data-live') !== '1') return;
    if (img.getAttribute('data-loading')) return;
    img.setAttribute('data-loading', '1');
    var next = new Image();
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
    next.src = withFreshQuery(img.getAttribute('data-refresh'));
  }

  /** Shows camera `camera`'s state on its card or tile: the label, and the picture or the state in its place. */
  function applyState(element, camera) {
    var label = element.querySelector('.state');
    if (label) {
      label.textContent = camera.stateText;
      label.className = 'state state-' + camera.state;
    }
    var box = element.querySelector('.picture');
    if (!box) return;
    var note = box.querySelector('.picture-state');
    if (note) note.textContent = camera.stateText;
    var shows = PICTURE_STATES[camera.state] === true;
    var was = box.getAttribute('data-live') === '1';
    box.setAttribute('data-live', shows ? '1' : '0');
    if (!shows || was) return;
    // Back: a snapshot is fetched at once, an MJPEG stream reconnected.
    var img = box.querySelector('img');
    if (!img) return;
    if (img.getAttribute('data-refresh')) reload(img);
    else if (img.getAttribute('data-stream')) img.src = withFreshQuery(img.getAttribute('data-stream'));
  }

  function readStates() {
    if (document.hidden) return;
    fetch('/stat.json', { cache: 'no-store' })
      .then(function (response) { return response.ok ? response.json() : null; })
      .catch(function () { return null; })
      .then(function (status) {
        if (!status || !Array.isArray(status.cameras)) return;
        status.cameras.forEach(function (camera) {
          Array.prototype.forEach.call(document.querySelectorAll('[data-camera]'), function (element) {
            if (element.getAttribute('data-camera') === camera.name) applyState(element, camera);
          });
        });
        container.setAttribute('data-states-at', String(Date.now()));
      });
  }

  setInterval(function () {
    if (document.hidden) return;
    Array.prototype.forEach.call(document.querySelectorAll('img[data-refresh]'), reload);
  }, period);
  setInterval(readStates, STATE_PERIOD_MS);
})();
