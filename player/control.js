// Camera control on a player page: asks for control, shows the place in the queue and the time left (Server-Sent
// Events), and sends moves, zoom and presets while this viewer holds control. Stays hidden for cameras without control.
(function () {
  'use strict';
  var box = document.getElementById('control');
  if (!box || !window.fetch || !window.EventSource) return;
  var camera = box.getAttribute('data-camera');
  var token = new URLSearchParams(location.search).get('control_token');
  var base = '/api/control/' + encodeURIComponent(camera);
  var query = token ? '?token=' + encodeURIComponent(token) : '';
  var id = null;
  var holding = false;
  var events = null;
  /** While a move button is pressed (finger or mouse), its move is sent again at this interval, under ONVIF's 0.5 s nudge. */
  var REPEAT_MS = 400;
  var pressed = null;

  function el(tag, text, className) {
    var node = document.createElement(tag);
    if (text) node.textContent = text;
    if (className) node.className = className;
    return node;
  }
  var status = el('p', 'camera control', 'control-status');
  status.setAttribute('aria-live', 'polite');
  var requestButton = el('button', 'request control', 'control-request');
  requestButton.type = 'button';
  var pad = el('div', '', 'control-pad');
  var presets = el('div', '', 'control-presets');

  function post(action, body) {
    return fetch(base + '/' + action + query, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body || {}) })
      .then(function (response) { return response.json().catch(function () { return {}; }).then(function (json) { json.httpStatus = response.status; return json; }); });
  }
  function command(action, body) {
    if (!holding || !id) return;
    body.id = id;
    post(action, body).then(function (reply) {
      if (reply.httpStatus !== 200 && reply.error) status.textContent = reply.error;
    });
  }
  function setHolding(value) {
    if (!value) release(false); // control went elsewhere: nothing more to send
    holding = value;
    box.setAttribute('data-holding', value ? '1' : '0');
    pad.querySelectorAll('button').forEach(function (button) { button.disabled = !value; });
    presets.querySelectorAll('button').forEach(function (button) { button.disabled = !value; });
  }
  var moves = [
    ['←', 'pan left', { pan: -1 }], ['↑', 'tilt up', { tilt: 1 }], ['↓', 'tilt down', { tilt: -1 }], ['→', 'pan right', { pan: 1 }],
    ['+', 'zoom in', { zoom: 1 }], ['−', 'zoom out', { zoom: -1 }],
  ];
  // Press and hold to move, release to stop, with a finger as with a mouse: pointer events, the press captured so that
  // a finger sliding off the button still ends it, and no scrolling, zooming or long-press menu on the pad.
  function release(sendStop) {
    if (!pressed) return;
    clearInterval(pressed.timer);
    pressed = null;
    if (sendStop) command('stop', {});
  }
  moves.forEach(function (move) {
    var button = el('button', move[0], 'control-move');
    button.type = 'button';
    button.title = move[1];
    button.setAttribute('aria-label', move[1]);
    button.style.touchAction = 'none';
    button.addEventListener('pointerdown', function (event) {
      if (!holding || (event.pointerType === 'mouse' && event.button !== 0)) return;
      event.preventDefault();
      release(false);
      try {
        button.setPointerCapture(event.pointerId);
      } catch (error) {
        // a pointer the browser does not track (a synthetic one) cannot be captured; its release still ends the press
      }
      command('move', Object.assign({}, move[2]));
      pressed = { pointer: event.pointerId, timer: setInterval(function () { command('move', Object.assign({}, move[2])); }, REPEAT_MS) };
    });
    ['pointerup', 'pointercancel', 'lostpointercapture'].forEach(function (type) {
      button.addEventListener(type, function (event) { if (pressed && pressed.pointer === event.pointerId) release(true); });
    });
    // A click from the keyboard (Enter or Space: detail 0) is one move; a pointer's click was handled as a press.
    button.addEventListener('click', function (event) { if (event.detail === 0) command('move', Object.assign({}, move[2])); });
    pad.appendChild(button);
  });
  pad.addEventListener('contextmenu', function (event) { event.preventDefault(); });
  var keys = { ArrowLeft: { pan: -1 }, ArrowRight: { pan: 1 }, ArrowUp: { tilt: 1 }, ArrowDown: { tilt: -1 }, '+': { zoom: 1 }, '=': { zoom: 1 }, '-': { zoom: -1 } };
  document.addEventListener('keydown', function (event) {
    var move = keys[event.key];
    if (!move || !holding || event.target instanceof HTMLInputElement) return;
    event.preventDefault();
    command('move', Object.assign({}, move));
  });

  function show(state) {
    if (state.position === 0) {
      setHolding(true);
      status.textContent = state.timeLeftMs === undefined ? 'you have control' : 'you have control: ' + Math.ceil(state.timeLeftMs / 1000) + ' s left';
    } else {
      setHolding(false);
      status.textContent = 'place ' + state.position + ' in the queue' + (state.holder ? ' (' + state.holder + ' has control)' : '');
    }
  }
  function ended(reason) {
    setHolding(false);
    id = null;
    if (events) events.close();
    events = null;
    requestButton.hidden = false;
    status.textContent = 'your turn ended (' + reason + ')';
  }
  requestButton.addEventListener('click', function () {
    requestButton.hidden = true;
    post('request').then(function (reply) {
      if (!reply.id) {
        requestButton.hidden = false;
        status.textContent = reply.error || 'control refused';
        return;
      }
      id = reply.id;
      show(reply);
      events = new EventSource(base + '/events?id=' + encodeURIComponent(id) + (token ? '&token=' + encodeURIComponent(token) : ''));
      events.addEventListener('state', function (event) { show(JSON.parse(event.data)); });
      events.addEventListener('ended', function (event) { ended(JSON.parse(event.data).reason); });
      events.onerror = function () { if (events && events.readyState === EventSource.CLOSED) ended('connection lost'); };
    });
  });

  fetch(base + query).then(function (response) {
    if (!response.ok) return;
    return response.json().then(function (info) {
      (info.presets || []).forEach(function (name) {
        var button = el('button', name, 'control-preset');
        button.type = 'button';
        button.addEventListener('click', function () { command('preset', { name: name }); });
        presets.appendChild(button);
      });
      box.appendChild(status);
      box.appendChild(requestButton);
      box.appendChild(pad);
      box.appendChild(presets);
      setHolding(false);
      box.hidden = false;
    });
  });
})();
