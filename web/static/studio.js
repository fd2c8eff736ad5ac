// The teacher studio's editor (web/templates/studio-edit.html), on top of
// a plain form that works without it. It keeps the whole draft (the doc)
// here, applies every edit of the form to it, and saves it as the teacher
// types: POST {rev, doc} to /teach/studio/ID/save, 800 ms after the last
// key. "Saved" is shown only when the box has answered (it answers once the
// revision is on disk). Until then the edits are kept in localStorage under
// "stembox-studio:ID:REV" (REV: the revision they start from), so a reload
// or a dropped Wi-Fi loses nothing: they are put back and sent when the
// page is opened again or the box is back. A 409 (changed on another
// device) offers to load that version or keep this one. Buttons that
// change the form's shape (add or remove a question or a choice, move a
// question, switch the language shown) act here without a round trip;
// Undo (also Ctrl+Z outside text fields) asks the box for the revision
// before. Chrome 70 era: no modules, no optional chaining.
(function () {
  'use strict';
  var form = document.getElementById('studio-form');
  if (!form || !window.JSON || !window.fetch) return;
  document.documentElement.className += ' js';

  var id = form.getAttribute('data-id');
  var kind = form.getAttribute('data-kind');
  var csrf = form.getAttribute('data-csrf');
  var lang = form.getAttribute('data-in');
  var rev = +form.getAttribute('data-rev');
  var doc = JSON.parse(document.getElementById('studio-doc').textContent);
  var msgs = document.getElementById('studio-msgs');
  var stateEl = document.getElementById('save-state');
  var bar = document.getElementById('studio-bar');
  var conflictEl = document.getElementById('studio-conflict');
  var itemsEl = document.getElementById('items');
  var KEY = 'stembox-studio:' + id + ':';
  var timer = 0, saving = false, again = false, dirty = false, retry = 1000, conflict = null;
  var waiters = [];

  bar.hidden = false;

  function msg(k, arg) {
    var m = msgs.getAttribute('data-' + k) || '';
    return arg === undefined ? m.replace(' %s', '').replace('%s', '') : m.replace('%s', arg);
  }
  function setState(k, arg) {
    stateEl.textContent = msg(k, arg);
    stateEl.className = 'save-state ' + k;
  }

  // canon is a doc as JSON with its keys sorted and empty values left out,
  // as the box's omitempty leaves them: two docs that say the same compare
  // equal.
  function canon(v) {
    if (Array.isArray(v)) return '[' + v.map(canon).join(',') + ']';
    if (v && typeof v === 'object') {
      var keys = Object.keys(v).sort(), parts = [];
      keys.forEach(function (k) {
        var x = v[k];
        if (x === undefined || x === null || x === '' || x === false || x === 0) return;
        if (Array.isArray(x) && x.length === 0) return;
        if (typeof x === 'object' && !Array.isArray(x) && Object.keys(x).length === 0) return;
        parts.push(JSON.stringify(k) + ':' + canon(x));
      });
      return '{' + parts.join(',') + '}';
    }
    return JSON.stringify(v);
  }

  // --- keeping edits on the device -------------------------------------
  function keys() {
    var out = [];
    try {
      for (var i = 0; i < localStorage.length; i++) {
        var k = localStorage.key(i);
        if (k && k.indexOf(KEY) === 0) out.push(k);
      }
    } catch (e) { /* storage off: edits live only in the page */ }
    return out;
  }
  function keep() {
    try {
      keys().forEach(function (k) { if (k !== KEY + rev) localStorage.removeItem(k); });
      localStorage.setItem(KEY + rev, JSON.stringify({ rev: rev, doc: doc, at: Date.now() }));
    } catch (e) { /* full or off */ }
  }
  function forget() {
    keys().forEach(function (k) { try { localStorage.removeItem(k); } catch (e) { /* off */ } });
  }
  function kept() {
    var best = null;
    keys().forEach(function (k) {
      try {
        var e = JSON.parse(localStorage.getItem(k));
        if (e && e.doc && (!best || e.rev > best.rev)) best = e;
      } catch (err) { /* a broken entry */ }
    });
    return best;
  }

  // --- saving ------------------------------------------------------------
  function post(path, body, json) {
    var headers = { 'Accept': 'application/json', 'X-CSRF-Token': csrf };
    if (json) headers['Content-Type'] = 'application/json';
    return fetch('/teach/studio/' + id + path, {
      method: 'POST', credentials: 'same-origin', headers: headers, body: json ? JSON.stringify(body) : body
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (j) { j.status = r.status; return j; });
    });
  }

  function changed() {
    dirty = true;
    keep();
    if (!conflict) setState('unsaved');
    clearTimeout(timer);
    timer = setTimeout(save, 800);
  }

  function settle(ok) {
    var ws = waiters;
    waiters = [];
    ws.forEach(function (w) { w(ok); });
  }

  // flush resolves true once everything typed is saved, false if it cannot be.
  function flush() {
    if (!dirty && !saving) return Promise.resolve(true);
    return new Promise(function (resolve) {
      waiters.push(resolve);
      clearTimeout(timer);
      if (!saving) save();
    });
  }

  function save() {
    clearTimeout(timer);
    if (conflict) { settle(false); return; }
    if (saving) { again = true; return; }
    saving = true;
    again = false;
    var sent = canon(doc), from = rev;
    setState('saving');
    post('/save', { rev: rev, doc: doc }, true).then(function (r) {
      saving = false;
      if (r.status === 200) {
        rev = r.rev;
        form.elements.rev.value = rev;
        retry = 1000;
        if (canon(doc) === sent && !again) {
          dirty = false;
          forget();
          setState('saved', r.updated);
          settle(true);
        } else {
          keep();
          save();
        }
        return;
      }
      if (r.status === 409 && r.draft) {
        showConflict(r.draft);
        settle(false);
        return;
      }
      if (r.status >= 500 || r.status === 0) throw new Error('box');
      setState('error', r.error || r.status); // 400, 403, 413: the teacher must change something
      settle(false);
    }).catch(function () {
      saving = false;
      rev = from;
      setState('offline');
      settle(false);
      clearTimeout(timer);
      timer = setTimeout(save, retry);
      retry = Math.min(retry * 2, 30000);
    });
  }
  window.addEventListener('online', function () { if (dirty) { retry = 1000; save(); } });

  function showConflict(theirs) {
    conflict = theirs;
    conflictEl.hidden = false;
    setState('error', '409');
    keep();
  }
  conflictEl.addEventListener('click', function (e) {
    var b = e.target.closest('button[data-conflict]');
    if (!b || !conflict) return;
    var theirs = conflict;
    conflict = null;
    conflictEl.hidden = true;
    if (b.getAttribute('data-conflict') === 'load') {
      forget();
      doc = theirs.doc;
      rev = theirs.rev;
      form.elements.rev.value = rev;
      dirty = false;
      render();
      setState('saved', theirs.updated);
    } else {
      forget();
      rev = theirs.rev;
      form.elements.rev.value = rev;
      changed();
      save();
    }
  });

  // --- the form and the doc ---------------------------------------------
  function text(t, v) {
    t = t && typeof t === 'object' ? t : {};
    v = v.replace(/\r\n/g, '\n').replace(/\s+$/, '');
    if (v) t[lang] = v; else delete t[lang];
    return t;
  }
  function number(s) {
    s = s.replace(',', '.').trim();
    if (s === '') return 0;
    var n = Number(s);
    return isFinite(n) ? n : null;
  }
  function grades(s) {
    var out = [];
    s.split(/[\s,;]+/).forEach(function (p) {
      var m = /^(\d+)(?:[-–](\d+))?$/.exec(p);
      if (!m) return;
      for (var g = +m[1]; g <= +(m[2] || m[1]) && g <= 12; g++) if (g >= 1 && out.indexOf(g) < 0) out.push(g);
    });
    return out.sort(function (a, b) { return a - b; });
  }
  function itemIndex(el) {
    var f = el.closest('.item');
    return f ? +f.getAttribute('data-n') : -1;
  }
  function usesChoices(t) { return t === 'choice' || t === 'multi' || t === 'poll'; }
  function nextID() {
    var n = 0;
    doc.items.forEach(function (it) {
      var m = /^q(\d+)$/.exec(it.id || '');
      if (m && +m[1] > n) n = +m[1];
    });
    return 'q' + (n + 1);
  }
  function blank(type) {
    var it = { id: nextID(), type: type, prompt: {} };
    if (usesChoices(type)) it.choices = [{ text: {} }, { text: {} }, { text: {} }];
    if (type === 'truefalse') it.true = true;
    return it;
  }

  // apply takes one field's value into the doc; it says whether the doc changed.
  function apply(el) {
    var name = el.name || '';
    if (!name || el.getAttribute('data-f') === '-' || el.type === 'file' || name === 'newtype') return false;
    if (name === 'title') {
      doc.title = text(doc.title, el.value);
      if (el.value.trim()) document.getElementById('studio-h1').textContent = el.value;
    }
    else if (name === 'subject') doc.subject = el.value.trim();
    else if (name === 'grades') doc.grades = grades(el.value);
    else if (name === 'body') doc.body = text(doc.body, el.value);
    else if (name === 'languages') {
      doc.languages = Array.prototype.filter.call(form.querySelectorAll('input[name=languages]'), function (c) { return c.checked; })
        .map(function (c) { return c.value; });
      if (!doc.languages.length) doc.languages = [lang];
      tabs();
    } else if (name.indexOf('items.') === 0) return applyItem(el);
    else return false;
    return true;
  }
  function applyItem(el) {
    var n = itemIndex(el), it = doc.items[n];
    if (!it) return false;
    var c = el.getAttribute('data-c'), f = el.getAttribute('data-f');
    if (c) {
      var row = el.closest('.choice-row'), m = +row.getAttribute('data-m');
      var ch = it.choices[m] = it.choices[m] || { text: {} };
      if (c === 'text') ch.text = text(ch.text, el.value);
      else if (c === 'feedback') ch.feedback = text(ch.feedback, el.value);
      else if (c === 'correct') {
        ch.correct = el.checked;
        if (el.checked && it.type === 'choice') { // one right answer: the others go
          it.choices.forEach(function (o, j) { if (j !== m) o.correct = false; });
          Array.prototype.forEach.call(el.closest('.item').querySelectorAll('[data-c=correct]'), function (b) { if (b !== el) b.checked = false; });
        }
      }
      return true;
    }
    switch (f) {
      case 'type':
        it.type = el.value;
        if (usesChoices(it.type) && !(it.choices && it.choices.length)) it.choices = blank(it.type).choices;
        renderItem(n);
        break;
      case 'prompt': it.prompt = text(it.prompt, el.value); break;
      case 'unit': it.unit = text(it.unit, el.value); break;
      case 'true': it.true = el.value === 'true'; break;
      case 'answer': case 'tolerance':
        var x = number(el.value);
        el.setAttribute('aria-invalid', x === null ? 'true' : 'false');
        el.title = x === null ? msg('number') : '';
        if (x === null) return false;
        it[f] = x;
        break;
      case 'accepted':
        it.accepted = it.accepted || {};
        var as = el.value.split('\n').map(function (a) { return a.trim(); }).filter(Boolean);
        if (as.length) it.accepted[lang] = as; else delete it.accepted[lang];
        break;
      case 'fb.correct': case 'fb.incorrect': case 'fb.general':
        it.feedback = it.feedback || {};
        var k = f.slice(3);
        it.feedback[k] = text(it.feedback[k], el.value);
        break;
      default: return false;
    }
    return true;
  }
  var drawing = false; // the page's own input events (previews) are no edits
  function onEdit(e) {
    if (!drawing && apply(e.target)) changed();
  }
  form.addEventListener('input', onEdit);
  form.addEventListener('change', function (e) {
    var t = e.target;
    if (t.tagName === 'SELECT' || t.type === 'checkbox') onEdit(e);
  });

  // --- drawing the form from the doc ------------------------------------
  function fromTemplate(tid, n, m) {
    var html = document.getElementById(tid).innerHTML.replace(/__N__/g, n).replace(/__M__/g, m);
    var box = document.createElement('div');
    box.innerHTML = html;
    return box.firstElementChild;
  }
  function set(root, sel, v) {
    var el = root.querySelector(sel);
    if (!el) return;
    if (el.type === 'checkbox') el.checked = !!v; else el.value = v === undefined || v === null ? '' : v;
  }
  function tx(t) { return t && t[lang] ? t[lang] : ''; }
  function drawItem(it, n) {
    var el = fromTemplate('studio-item', n, 0);
    el.setAttribute('data-type', it.type);
    el.querySelector('.num').textContent = n + 1;
    set(el, '[data-f=id]', it.id);
    set(el, '[data-f=type]', it.type);
    set(el, '[data-f=prompt]', tx(it.prompt));
    set(el, '[data-f=true]', it.true ? 'true' : 'false');
    set(el, '[data-f=answer]', it.answer ? String(it.answer) : '');
    set(el, '[data-f=tolerance]', it.tolerance ? String(it.tolerance) : '');
    set(el, '[data-f=unit]', tx(it.unit));
    set(el, '[data-f=accepted]', it.accepted && it.accepted[lang] ? it.accepted[lang].join('\n') : '');
    var fb = it.feedback || {};
    if (fb.correct || fb.incorrect || fb.general || (it.choices || []).some(function (c) { return c.feedback && Object.keys(c.feedback).length; })) {
      el.className += ' fb-open';
      el.querySelector('details.fb').open = true;
    }
    set(el, '[data-f="fb.correct"]', tx(fb.correct));
    set(el, '[data-f="fb.incorrect"]', tx(fb.incorrect));
    set(el, '[data-f="fb.general"]', tx(fb.general));
    var list = el.querySelector('.choices');
    (it.choices || []).forEach(function (c, m) {
      var row = fromTemplate('studio-choice', n, m);
      set(row, '[data-c=text]', tx(c.text));
      set(row, '[data-c=feedback]', tx(c.feedback));
      set(row, '[data-c=correct]', c.correct);
      list.appendChild(row);
    });
    return el;
  }
  function renderItem(n) {
    var old = itemsEl.querySelector('.item[data-n="' + n + '"]');
    var el = drawItem(doc.items[n], n);
    if (old) itemsEl.replaceChild(el, old); else itemsEl.appendChild(el);
    previews(el);
    return el;
  }
  function render() {
    set(form, '[name=title]', tx(doc.title));
    set(form, '[name=subject]', doc.subject || '');
    set(form, '[name=grades]', (doc.grades || []).join(', '));
    Array.prototype.forEach.call(form.querySelectorAll('input[name=languages]'), function (c) {
      c.checked = (doc.languages || []).indexOf(c.value) >= 0;
    });
    if (kind === 'lesson') {
      set(form, '[name=body]', tx(doc.body));
      previews(form);
      return;
    }
    itemsEl.innerHTML = '';
    doc.items = doc.items || [];
    doc.items.forEach(function (it, n) { itemsEl.appendChild(drawItem(it, n)); });
    previews(itemsEl);
  }
  // previews has web/static/preview.js (once loaded) show the texts under
  // root: new text areas are attached (and sent), those it knew are sent
  // again with their new text.
  function previews(root) {
    var known = Array.prototype.filter.call(root.querySelectorAll('textarea[data-preview]'), function (t) {
      return t.getAttribute('data-preview-ready');
    });
    if (window.stemboxPreview) window.stemboxPreview();
    drawing = true;
    try {
      known.forEach(function (t) {
        var ev = document.createEvent('Event');
        ev.initEvent('input', true, true);
        t.dispatchEvent(ev);
      });
    } finally {
      drawing = false;
    }
  }

  // --- the form's buttons, without a round trip -------------------------
  // tabs marks the language shown and those the draft is not written in.
  function tabs() {
    Array.prototype.forEach.call(form.querySelectorAll('.studio-langs .tab'), function (t) {
      var on = t.getAttribute('lang') === lang;
      t.className = 'tab' + (on ? ' current' : '') + ((doc.languages || []).indexOf(t.getAttribute('lang')) < 0 ? ' off' : '');
      if (on) t.setAttribute('aria-current', 'true'); else t.removeAttribute('aria-current');
    });
  }
  function showLang(l) {
    lang = l;
    form.elements['in'].value = l;
    document.getElementById('studio-publish').elements['in'].value = l;
    tabs();
    Array.prototype.forEach.call(form.querySelectorAll('[lang]:not(.tab)'), function (e) {
      if (e.tagName === 'INPUT' || e.tagName === 'TEXTAREA' || e === itemsEl) e.setAttribute('lang', l);
    });
    if (history.replaceState) history.replaceState(null, '', location.pathname + '?in=' + l);
    render();
  }
  function focusItem(n) {
    var el = itemsEl.querySelector('.item[data-n="' + n + '"]');
    if (!el) return;
    el.scrollIntoView();
    var p = el.querySelector('[data-f=prompt]');
    if (p) p.focus();
  }
  function op(v) {
    var parts = v.split(':'), name = parts[0], n = +parts[1], items = doc.items || [];
    if (name === 'lang') { showLang(parts[1]); return; }
    if (name === 'add') {
      items.push(blank(form.elements.newtype.value));
      doc.items = items;
      renderItem(items.length - 1);
      focusItem(items.length - 1);
      changed();
      return;
    }
    var it = items[n];
    if (!it) return;
    if (name === 'del') items.splice(n, 1);
    else if (name === 'addc') (it.choices = it.choices || []).push({ text: {} });
    else if (name === 'delc') it.choices.splice(+parts[2], 1);
    else if (name === 'up' && n > 0) { items[n] = items[n - 1]; items[n - 1] = it; n--; }
    else if (name === 'down' && n + 1 < items.length) { items[n] = items[n + 1]; items[n + 1] = it; n++; }
    else return;
    render();
    if (name === 'addc') {
      var rows = itemsEl.querySelectorAll('.item[data-n="' + n + '"] [data-c=text]');
      if (rows.length) rows[rows.length - 1].focus();
    } else if (name !== 'delc') focusItem(Math.min(n, items.length - 1));
    changed();
  }

  function undo() {
    flush().then(function (ok) {
      if (!ok) return;
      setState('saving');
      return post('/undo', { rev: rev }, true).then(function (r) {
        if (r.status === 200) {
          doc = r.doc;
          rev = r.rev;
          form.elements.rev.value = rev;
          render();
          stateEl.textContent = msg('undone');
          stateEl.className = 'save-state saved';
        } else if (r.status === 409 && r.draft) showConflict(r.draft);
        else if (r.status === 404) { stateEl.textContent = msg('nothing'); stateEl.className = 'save-state'; }
        else setState('error', r.error || r.status);
      });
    }).catch(function () { setState('offline'); });
  }
  document.getElementById('studio-undo').addEventListener('click', undo);
  document.addEventListener('keydown', function (e) {
    if (!(e.ctrlKey || e.metaKey) || e.shiftKey || e.altKey || (e.key !== 'z' && e.key !== 'Z')) return;
    var t = e.target, tag = t && t.tagName;
    if (tag === 'INPUT' || tag === 'TEXTAREA' || tag === 'SELECT' || (t && t.isContentEditable)) return;
    e.preventDefault();
    undo();
  });

  function upload(button) {
    var item = button.closest('.item'), box = button.closest('details') || form;
    var prefix = item ? 'items.' + item.getAttribute('data-n') + '.' : '';
    var file = box.querySelector('input[type=file]'), alt = box.querySelector('input[name="' + prefix + 'alt"]');
    var out = box.querySelector('.pic-msg'), f = file.files && file.files[0];
    function say(m, bad) { out.textContent = m; out.className = 'pic-msg' + (bad ? ' bad' : ''); }
    if (!f) { say(msg('nopic'), true); return; }
    if (!alt.value.trim()) { say(msg('alt'), true); alt.focus(); return; }
    if (f.size > 12 * 1024 * 1024) { say(msg('big'), true); return; }
    var fd = new FormData();
    fd.append('csrf', csrf);
    fd.append('picture', f);
    fd.append('alt', alt.value);
    say(msg('uploading'));
    button.disabled = true;
    post('/media', fd, false).then(function (r) {
      button.disabled = false;
      if (r.status !== 200) { say(r.error || String(r.status), true); return; }
      var ta = item ? item.querySelector('[data-f=prompt]') : form.elements.body;
      ta.value = ta.value.replace(/\s+$/, '') + (ta.value.trim() ? '\n\n' : '') + r.markdown;
      apply(ta);
      previews(item || form);
      changed();
      file.value = '';
      alt.value = '';
      say('');
      if (box.tagName === 'DETAILS') box.open = false;
    }).catch(function () { button.disabled = false; say(msg('offline'), true); });
  }

  form.addEventListener('click', function (e) {
    var b = e.target.closest('button');
    if (!b || b.form !== form) return;
    if (b.name === 'op' && b.value !== 'save' && b.value !== 'preview') {
      e.preventDefault();
      op(b.value);
    } else if (b.name === 'op' && b.value === 'save') {
      e.preventDefault();
      retry = 1000;
      if (dirty || conflict) save(); else setState('saved', '');
    } else if (b.name === 'op' && b.value === 'preview') {
      e.preventDefault();
      flush().then(function () { location.href = '/teach/studio/preview/' + id + '?in=' + lang; });
    } else if (b.name === 'target') {
      e.preventDefault();
      upload(b);
    } else if (b.getAttribute('data-act') === 'undo') {
      e.preventDefault();
      undo();
    } else if (b.getAttribute('data-act') === 'publish') {
      e.preventDefault();
      flush().then(function (ok) { if (ok) document.getElementById('studio-publish').submit(); });
    }
  });
  form.addEventListener('submit', function (e) { e.preventDefault(); save(); }); // Enter in a field
  // Each choice's feedback shows with its question's feedback.
  form.addEventListener('toggle', function (e) {
    var d = e.target;
    if (!d.classList || !d.classList.contains('fb')) return;
    var item = d.closest('.item');
    if (item) item.classList.toggle('fb-open', d.open);
  }, true);

  // --- back after a reload or a dropped connection -----------------------
  var mine = kept();
  if (mine && canon(mine.doc) !== canon(doc)) {
    doc = mine.doc;
    render();
    if (mine.rev === rev) {
      setState('kept');
      changed();
      save();
    } else {
      // Saved elsewhere (or here, with the answer lost) since: let her choose.
      var theirs = { rev: rev, doc: JSON.parse(document.getElementById('studio-doc').textContent), updated: '' };
      dirty = true;
      rev = mine.rev; // kept under its own revision until she chooses
      showConflict(theirs);
    }
  } else {
    forget();
    setState('saved', '');
  }
})();
