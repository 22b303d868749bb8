// The admin page (/admin): lists cameras and streams from /api/cameras and /api/streams, adds, changes and removes
// them through the same API, and tests a source with /api/cameras/test. Every refusal shows the API's own text.
(function () {
  'use strict';
  var errorBox = document.getElementById('admin-error');
  var doneBox = document.getElementById('admin-done');
  if (!errorBox) return;

  function showError(text) {
    errorBox.textContent = text;
    errorBox.hidden = !text;
  }

  function done(text) {
    showError('');
    doneBox.textContent = text;
  }

  /** The API's error sentence and its file:line problems, as one text. */
  function refusal(status, body) {
    if (body && typeof body === 'object') {
      var problems = Array.isArray(body.problems) ? body.problems : [];
      return [body.error || body.message || 'refused (' + status + ')'].concat(problems).join('\n');
    }
    return String(body || 'refused (' + status + ')');
  }

  function call(method, url, body) {
    var options = { method: method, headers: { accept: 'application/json' }, credentials: 'same-origin' };
    if (body !== undefined) {
      options.headers['content-type'] = 'application/json';
      options.body = JSON.stringify(body);
    }
    return fetch(url, options).then(function (response) {
      return response.text().then(function (text) {
        var parsed = text;
        try { parsed = JSON.parse(text); } catch (e) { /* a plain-text answer */ }
        if (!response.ok) throw new Error(refusal(response.status, parsed));
        return parsed;
      });
    });
  }

  /** Lines of `Directive value` as the API's directives object; a name alone is null (remove) when changing. */
  function parseDirectives(text, removing) {
    var directives = {};
    text.split('\n').forEach(function (line) {
      var trimmed = line.trim();
      if (!trimmed || trimmed.charAt(0) === '#') return;
      var space = trimmed.search(/\s/);
      var name = space < 0 ? trimmed : trimmed.slice(0, space);
      var value = space < 0 ? null : trimmed.slice(space).trim();
      if (value === null && !removing) throw new Error(name + ': no value (write "' + name + ' value")');
      if (value !== null && Object.prototype.hasOwnProperty.call(directives, name)) {
        directives[name] = [].concat(directives[name], value);
      } else {
        directives[name] = value;
      }
    });
    return directives;
  }

  function cell(row, text) {
    var td = document.createElement('td');
    td.textContent = text;
    row.appendChild(td);
    return td;
  }

  function button(label, className, onClick) {
    var b = document.createElement('button');
    b.type = 'button';
    b.className = className;
    b.textContent = label;
    b.addEventListener('click', onClick);
    return b;
  }

  function details(kind, item) {
    if (kind === 'camera') return item.scheme + (item.onDemand ? ', on demand' : '') + (item.record ? ', recorded' : '');
    return item.format || '';
  }

  function render(section, items) {
    var kind = section.getAttribute('data-kind');
    var tbody = section.querySelector('tbody');
    tbody.textContent = '';
    items.forEach(function (item) {
      var row = document.createElement('tr');
      row.setAttribute('data-name', item.name);
      cell(row, item.name);
      cell(row, kind === 'camera' ? item.source : (item.feed || ''));
      cell(row, details(kind, item));
      var actions = cell(row, '');
      actions.appendChild(button('change', 'change', function () { openChange(section, item.name); }));
      actions.appendChild(document.createTextNode(' '));
      actions.appendChild(button('remove', 'remove', function () { remove(section, item.name); }));
      tbody.appendChild(row);
    });
    if (items.length === 0) {
      var empty = document.createElement('tr');
      cell(empty, 'none').colSpan = 4;
      tbody.appendChild(empty);
    }
  }

  function refresh(section) {
    return call('GET', section.getAttribute('data-api')).then(function (items) { render(section, items); });
  }

  function refreshAll() {
    return Promise.all(Array.prototype.map.call(document.querySelectorAll('.admin-section'), refresh))
      .catch(function (error) { showError(error.message); });
  }

  function remove(section, name) {
    var kind = section.getAttribute('data-kind');
    if (!window.confirm('Remove the ' + kind + ' ' + name + ' from relay.conf?')) return;
    call('DELETE', section.getAttribute('data-api') + '/' + encodeURIComponent(name))
      .then(function () { done(kind + ' ' + name + ' removed'); return refreshAll(); })
      .catch(function (error) { showError(error.message); });
  }

  function openChange(section, name) {
    var form = section.querySelector('.change-form');
    form.setAttribute('data-name', name);
    form.querySelector('.change-name').textContent = name;
    form.hidden = false;
    form.querySelector('textarea').focus();
  }

  Array.prototype.forEach.call(document.querySelectorAll('.admin-section'), function (section) {
    var api = section.getAttribute('data-api');
    var kind = section.getAttribute('data-kind');
    var add = section.querySelector('.add-form');
    add.addEventListener('submit', function (event) {
      event.preventDefault();
      var name = add.elements.name.value.trim();
      var first = add.elements.first;
      var directives;
      try { directives = parseDirectives(add.elements.directives.value, false); } catch (error) { showError(error.message); return; }
      directives[first.getAttribute('data-directive')] = first.value.trim();
      call('POST', api, { name: name, directives: directives })
        .then(function () { add.reset(); done(kind + ' ' + name + ' added'); return refreshAll(); })
        .catch(function (error) { showError(error.message); });
    });
    var change = section.querySelector('.change-form');
    change.addEventListener('submit', function (event) {
      event.preventDefault();
      var name = change.getAttribute('data-name');
      var directives;
      try { directives = parseDirectives(change.elements.directives.value, true); } catch (error) { showError(error.message); return; }
      call('PUT', api + '/' + encodeURIComponent(name), { directives: directives })
        .then(function () { change.hidden = true; change.reset(); done(kind + ' ' + name + ' changed'); return refreshAll(); })
        .catch(function (error) { showError(error.message); });
    });
    change.querySelector('.cancel').addEventListener('click', function () { change.hidden = true; });
  });

  var testForm = document.getElementById('test-form');
  var testState = document.getElementById('test-state');
  var testResult = document.getElementById('test-result');
  testForm.addEventListener('submit', function (event) {
    event.preventDefault();
    var body = { source: testForm.elements.source.value.trim() };
    if (testForm.elements.username.value) body.username = testForm.elements.username.value;
    if (testForm.elements.password.value) body.password = testForm.elements.password.value;
    testState.textContent = 'testing (a few seconds)';
    testResult.hidden = true;
    call('POST', '/api/cameras/test', body).then(function (answer) {
      testState.textContent = '';
      var size = answer.width ? answer.width + 'x' + answer.height : 'size unknown';
      var rate = answer.frameRate === null ? 'rate unknown' : answer.frameRate + ' fps';
      document.getElementById('test-figures').textContent = answer.codec + ', ' + size + ', ' + rate + ' (' + answer.frames + ' frames seen)';
      var img = document.getElementById('test-snapshot');
      if (answer.snapshot) img.src = answer.snapshot; else img.removeAttribute('src');
      img.hidden = !answer.snapshot;
      testResult.hidden = false;
      showError('');
    }).catch(function (error) {
      testState.textContent = '';
      showError(error.message);
    });
  });

  refreshAll();
})();
