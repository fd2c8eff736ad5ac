/* stembox offline: exercise pages. An answer is sent as JSON with an id
 * made here, or kept on the device with a note and the way on; its verdict
 * is shown once the box has it; a set's page marks the answers that wait.
 *
 * One of the parts of the page's offline script; offline.js says how they
 * fit. Written for Chrome 70: ES5 with Promise and fetch.
 */
(function (root) {
  'use strict';

  var lib = root.StemboxOffline, page = lib && lib.page;
  if (!page) {
    return; // not a page of the box, or a browser too old: the pages work without us
  }
  var doc = page.doc, conn = page.conn;
  var lang = page.lang, msg = page.msg, el = page.el, queue = page.queue, state = page.state,
    count = page.count, send = page.send, manifests = page.manifests, manifest = page.manifest,
    itemOf = page.itemOf, plan = page.plan;

  // --- exercises ----------------------------------------------------------------

  var shown = null; // the queued answer this page shows

  function answerOf(form) {
    var out = {choices: [], text: ''};
    var inputs = form.querySelectorAll('input');
    for (var i = 0; i < inputs.length; i++) {
      var inp = inputs[i];
      if (inp.name === 'choice' && inp.checked) {
        out.choices.push(Number(inp.value));
      } else if (inp.name === 'text' && ((inp.type !== 'radio' && inp.type !== 'checkbox') || inp.checked)) {
        out.text = inp.value.replace(/^\s+|\s+$/g, '');
      }
    }
    return out;
  }

  function showError(form, text) {
    var p = form.querySelector('.offline-error');
    if (!p) {
      p = el('p', {'class': 'error offline-error', role: 'alert', lang: lang});
      var fs = form.querySelector('fieldset');
      fs.parentNode.insertBefore(p, fs.nextSibling);
    }
    p.textContent = text;
  }

  function nextURL(where) {
    var m = manifests[where.pack];
    if (m) {
      for (var i = 0; i < m.sets.length; i++) {
        if (m.sets[i].id === where.set && where.n < m.sets[i].items.length) {
          return {url: where.setURL + '/' + (where.n + 1), label: msg('next')};
        }
      }
    }
    return {url: where.setURL, label: msg('finish')};
  }

  // showQueued turns the form into a note that the answer waits on the
  // device, with the way on to the next question.
  function showQueued(form, where, e) {
    shown = e;
    var fs = form.querySelector('fieldset');
    fs.disabled = true;
    var btn = form.querySelector('button[type=submit]');
    (btn.parentNode.tagName === 'P' ? btn.parentNode : btn).hidden = true;
    var old = form.querySelector('.offline-error');
    if (old) {
      old.parentNode.removeChild(old);
    }
    var sec = el('section', {'class': 'verdict queued', role: 'status', 'aria-live': 'polite', lang: lang});
    sec.appendChild(el('h2', {}, msg('saved_title')));
    sec.appendChild(el('p', {'class': 'offline-waiting'}, lib.fmt(msg('waiting'), state.waiting)));
    var cta = el('p', {'class': 'cta'});
    var next = nextURL(where);
    cta.appendChild(el('a', {'class': 'button', href: next.url}, next.label));
    sec.appendChild(cta);
    form.parentNode.insertBefore(sec, form.nextSibling);
  }

  // showVerdict shows the verdict of the answer this page queued, once the
  // box has checked it.
  function showVerdict(e) {
    if (!shown || shown.id !== e.id) {
      return;
    }
    var sec = doc.querySelector('section.verdict.queued');
    if (!sec) {
      return;
    }
    var v = e.verdict;
    var kind = lib.verdictKind(v);
    sec.className = 'verdict ' + (kind === 'right' ? 'right' : 'wrong');
    var h = sec.querySelector('h2');
    h.textContent = kind === 'partly' ? lib.fmt(msg('partly'), Math.round(v.score * 100)) : msg(kind);
    var note = sec.querySelector('.offline-waiting');
    note.className = 'offline-sent';
    note.textContent = '';
    for (var i = 0; i < v.feedback.length; i++) {
      var f = el('div', {'class': 'feedback'});
      f.innerHTML = v.feedback[i]; // HTML of the signed pack, as the box shows it
      sec.insertBefore(f, note);
    }
    note.appendChild(el('a', {href: e.url + '?answer=' + e.id}, msg('see_answer')));
  }

  function showRefused(e) {
    if (!shown || shown.id !== e.id) {
      return;
    }
    var sec = doc.querySelector('section.verdict.queued');
    if (sec) {
      sec.className = 'verdict wrong';
      sec.querySelector('.offline-waiting').textContent = lib.fmt(msg('refused_one'), e.error);
    }
  }

  function enhanceExercise() {
    var form = doc.querySelector('form.exercise');
    var btn = form && form.querySelector('button[type=submit]');
    if (!btn) {
      return;
    }
    var where = lib.exercise(form.getAttribute('action') || '');
    if (!where) {
      return;
    }
    manifest(where.pack).catch(function () {
      return null;
    });
    var busy = false;
    form.addEventListener('submit', function (ev) {
      ev.preventDefault();
      if (busy) {
        return;
      }
      var a = answerOf(form);
      if (!a.choices.length && !a.text) {
        showError(form, msg('empty'));
        return;
      }
      busy = true;
      btn.disabled = true;
      var e = {
        id: lib.ulid(), learner: state.learner, pack: where.pack, set: where.set, n: where.n, item: '',
        choices: a.choices, text: a.text, url: where.setURL + '/' + where.n, created: Date.now(), state: 'waiting'
      };
      function keep() {
        return queue.put(e).then(count).then(function () {
          showQueued(form, where, e);
          plan();
        });
      }
      function again() {
        busy = false;
        btn.disabled = false;
      }
      itemOf(e).catch(function () {
        return '';
      }).then(function (item) {
        e.item = item;
        if (state.net === 'offline') {
          return keep();
        }
        if (!item) {
          form.submit(); // no manifest: let the box's form do it
          return null;
        }
        return send(e).then(function () {
          root.location.assign(e.url + '?answer=' + e.id);
        }, function (err) {
          if (err.refused) {
            showError(form, err.message);
            again();
            return null;
          }
          return keep();
        });
      }).catch(function () {
        showError(form, msg('offline'));
        again();
      });
    });
  }

  // markSet marks, on an exercise set's page, the questions whose answers
  // wait on this device.
  function markSet() {
    var m = /^\/packs\/([^/]+)\/sets\/([^/]+)$/.exec(root.location.pathname);
    var list = doc.querySelector('ol.items');
    if (!m || !list) {
      return;
    }
    queue.list(state.learner).then(function (xs) {
      var mine = xs.filter(function (x) {
        return x.state === 'waiting' && x.pack === m[1] && x.set === m[2];
      });
      if (!mine.length) {
        return null;
      }
      return manifest(m[1]).then(function (man) {
        mine.forEach(function (x) {
          var a = list.querySelector('a[href="/packs/' + m[1] + '/sets/' + m[2] + '/' + x.n + '"]');
          if (a && !a.parentNode.querySelector('.offline-item')) {
            a.parentNode.appendChild(el('span', {'class': 'status offline-item'}, ' · ' + man.ui.item_waiting));
          }
        });
      });
    }).catch(function () {
      return null;
    });
  }

  page.enhanceExercise = enhanceExercise;
  page.markSet = markSet;
  page.showVerdict = showVerdict;
  page.showRefused = showRefused;
}(this));
