// gapmap pages: sortable tables, live progress of runs, upload progress. No inline handlers.
(function () {
  'use strict';

  function cellValue(td, type) {
    var raw = td.hasAttribute('data-value') ? td.getAttribute('data-value') : td.textContent.trim();
    if (type === 'num') { var n = parseFloat(raw); return isNaN(n) ? -Infinity : n; }
    return raw.toLowerCase();
  }

  function makeSortable(table) {
    var heads = table.querySelectorAll('thead th');
    heads.forEach(function (th, col) {
      var type = th.getAttribute('data-type');
      if (!type) { return; }
      th.tabIndex = 0;
      function sort() {
        var dir = th.getAttribute('aria-sort') === 'ascending' ? 'descending' : 'ascending';
        heads.forEach(function (h) { h.removeAttribute('aria-sort'); });
        th.setAttribute('aria-sort', dir);
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var x = cellValue(a.cells[col], type), y = cellValue(b.cells[col], type);
          var c = x < y ? -1 : (x > y ? 1 : 0);
          return dir === 'ascending' ? c : -c;
        });
        rows.forEach(function (r) { body.appendChild(r); });
      }
      th.addEventListener('click', sort);
      th.addEventListener('keydown', function (e) { if (e.key === 'Enter') { sort(); } });
    });
  }

  function pollRuns(table) {
    var url = table.getAttribute('data-poll');
    var rounds = 0;
    function active() { return table.querySelector('td.state[data-state="queued"], td.state[data-state="running"]'); }
    function tick() {
      if (!active() || rounds++ > 2400) { return; }
      fetch(url, {credentials: 'same-origin'}).then(function (r) { return r.json(); }).then(function (data) {
        var finished = false;
        data.items.forEach(function (run) {
          var tr = table.querySelector('tr[data-run="' + run.id + '"]');
          if (!tr) { return; }
          var state = tr.querySelector('td.state');
          if (state.getAttribute('data-state') !== run.state && run.state !== 'running') { finished = true; }
          tr.querySelector('progress').value = run.progress;
          tr.querySelector('.pct').textContent = Math.round(run.progress) + ' %';
          tr.querySelector('.stage').textContent = run.stage || '';
          if (state.getAttribute('data-state') === 'queued' && run.state === 'running') {
            state.setAttribute('data-state', 'running');
          }
        });
        if (finished) { window.location.reload(); } else { setTimeout(tick, 1000); }
      }).catch(function () { setTimeout(tick, 3000); });
    }
    setTimeout(tick, 1000);
  }

  function uploadWithProgress(form) {
    var bar = document.getElementById('upload-progress');
    var err = document.getElementById('upload-error');
    form.addEventListener('submit', function (ev) {
      if (!window.FormData || !window.XMLHttpRequest) { return; }
      ev.preventDefault();
      var xhr = new XMLHttpRequest();
      xhr.open('POST', form.action);
      bar.hidden = false; err.hidden = true;
      xhr.upload.addEventListener('progress', function (e) {
        if (e.lengthComputable) { bar.value = Math.round(e.loaded / e.total * 100); }
      });
      xhr.addEventListener('load', function () {
        if (xhr.status < 400) { window.location.assign(xhr.responseURL); return; }
        var doc = new DOMParser().parseFromString(xhr.responseText, 'text/html');
        var msg = doc.querySelector('.error');
        err.textContent = (msg ? msg.textContent : xhr.statusText) + ' (' + xhr.status + ')';
        err.hidden = false; bar.hidden = true;
      });
      xhr.addEventListener('error', function () { err.textContent = 'network error'; err.hidden = false; });
      xhr.send(new FormData(form));
    });
  }

  document.addEventListener('DOMContentLoaded', function () {
    document.querySelectorAll('table.sortable').forEach(makeSortable);
    var runs = document.querySelector('table[data-poll]');
    if (runs) { pollRuns(runs); }
    var upload = document.getElementById('upload');
    if (upload) { uploadWithProgress(upload); }
  });
})();
