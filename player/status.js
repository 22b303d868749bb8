// Keeps /stat.html fresh: fetches /stat.json every few seconds and rewrites the values in place (no reload, no
// flicker). When cameras, streams or viewers come or go, the table layout changes, so the page body is fetched as
// HTML instead and swapped in whole, keeping open <details> open.
(function () {
  'use strict';
  var root = document.getElementById('status');
  var note = document.getElementById('refresh-state');
  if (!root) return;
  var period = Number(root.getAttribute('data-refresh-ms')) || 3000;
  var UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

  // The same formats as relay/pages/html.ts formatValue(), so refreshed cells read as the server rendered them.
  var FORMATS = {
    text: function (v) { return String(v); },
    note: function (v) { return String(v); },
    time: function (v) { return String(v).replace('T', ' ').slice(0, 19) + 'Z'; },
    count: function (v) { return String(Math.round(Number(v))); },
    bytes: function (v) {
      var n = Number(v), unit = 0;
      while (n >= 1024 && unit < UNITS.length - 1) { n /= 1024; unit++; }
      return unit === 0 ? n + ' B' : n.toFixed(1) + ' ' + UNITS[unit];
    },
    kbps: function (v) { return Number(v).toFixed(1) + ' kbit/s'; },
    rate: function (v) { return Number(v).toFixed(1); },
    percent: function (v) { return Number(v).toFixed(1) + '%'; },
    seconds: function (v) { return Number(v).toFixed(1) + ' s'; },
  };

  // Exposed so that the agreement with the server's formats can be checked.
  window.relayStatusFormat = format;

  function format(value, kind) {
    if (value === null || value === undefined) return kind === 'note' ? '' : '–';
    return (FORMATS[kind] || FORMATS.text)(value);
  }

  function lookup(object, path) {
    return path.split('.').reduce(function (value, key) { return value === null || value === undefined ? undefined : value[key]; }, object);
  }

  /** The /stat.json object each row key stands for. */
  function objectsByKey(snapshot) {
    var map = { server: snapshot.server };
    snapshot.cameras.forEach(function (camera) { map['camera/' + camera.name] = camera; });
    snapshot.streams.forEach(function (stream) {
      map['stream/' + stream.name] = stream;
      stream.viewerList.forEach(function (viewer) { map['viewer/' + stream.name + '/' + viewer.id] = viewer; });
    });
    if (snapshot.recording) {
      map.recording = snapshot.recording;
      snapshot.recording.cameras.forEach(function (camera) { map['recording/' + camera.name] = camera; });
    }
    return map;
  }

  function sameKeys(rows, map) {
    var seen = {};
    for (var i = 0; i < rows.length; i++) seen[rows[i].getAttribute('data-key')] = true;
    var domKeys = Object.keys(seen).sort().join('\n');
    return domKeys === Object.keys(map).sort().join('\n');
  }

  function patch(rows, map) {
    for (var i = 0; i < rows.length; i++) {
      var object = map[rows[i].getAttribute('data-key')];
      var cells = rows[i].querySelectorAll('[data-f]');
      for (var j = 0; j < cells.length; j++) {
        // A cell belongs to the nearest keyed row: viewer rows sit inside their stream's detail row.
        if (cells[j].closest('[data-key]') !== rows[i]) continue;
        var text = format(lookup(object, cells[j].getAttribute('data-f')), cells[j].getAttribute('data-fmt'));
        if (cells[j].textContent !== text) cells[j].textContent = text;
      }
    }
  }

  function replaceBody() {
    var open = Array.prototype.map.call(root.querySelectorAll('details[open]'), function (d) { return d.id; });
    return fetch(location.pathname, { cache: 'no-store' })
      .then(function (response) { return response.text(); })
      .then(function (text) {
        var fresh = new DOMParser().parseFromString(text, 'text/html').getElementById('status');
        if (!fresh) return;
        open.forEach(function (id) {
          var details = id && fresh.querySelector('details[id="' + CSS.escape(id) + '"]');
          if (details) details.open = true;
        });
        root.replaceChildren.apply(root, Array.prototype.slice.call(fresh.childNodes));
      });
  }

  function refresh() {
    return fetch('/stat.json', { cache: 'no-store' })
      .then(function (response) {
        if (!response.ok) throw new Error('HTTP ' + response.status);
        return response.json();
      })
      .then(function (snapshot) {
        var map = objectsByKey(snapshot);
        var rows = root.querySelectorAll('[data-key]');
        if (!sameKeys(rows, map)) return replaceBody();
        patch(rows, map);
      })
      .then(function () {
        root.setAttribute('data-updated', new Date().toISOString());
        if (note) note.textContent = 'updated ' + new Date().toLocaleTimeString();
        document.body.classList.remove('stale');
      })
      .catch(function (error) {
        if (note) note.textContent = 'relay not answering (' + error.message + '); retrying';
        document.body.classList.add('stale');
      })
      .then(function () { setTimeout(refresh, period); });
  }

  setTimeout(refresh, period);

  // The last-hour charts are drawn by the relay; after each new sample the page is fetched and the section swapped.
  function refreshCharts() {
    var charts = document.getElementById('charts');
    if (!charts) return;
    var every = Number(charts.getAttribute('data-refresh-ms')) || 10000;
    fetch(location.pathname, { cache: 'no-store' })
      .then(function (response) { return response.text(); })
      .then(function (text) {
        var fresh = new DOMParser().parseFromString(text, 'text/html').getElementById('charts');
        var current = document.getElementById('charts');
        if (fresh && current && fresh.getAttribute('data-sampled-at') !== current.getAttribute('data-sampled-at')) {
          current.replaceWith(document.importNode(fresh, true));
        }
      })
      .catch(function () { /* the status refresh above reports a relay that does not answer */ })
      .then(function () { setTimeout(refreshCharts, every); });
  }
  var charts = document.getElementById('charts');
  if (charts) setTimeout(refreshCharts, Number(charts.getAttribute('data-refresh-ms')) || 10000);
})();
