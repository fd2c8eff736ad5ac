// The studio's live preview (docs/studio.md). Any
//   <textarea data-preview="ID">
// gets, a moment (300 ms) after the teacher stops typing, its text rendered
// by the box (POST /teach/studio/preview) into the element with id ID:
// Markdown and TeX formulas, exactly as a pack shows them. The text's
// language is the textarea's data-preview-lang, else its nearest lang
// attribute; the CSRF token is the csrf field of its form, else of the page.
// Only the answer to the latest request is shown. When the box cannot be
// reached, the element says so. Plain ES5 for Chrome 70-era browsers.
(function () {
  'use strict';
  var DELAY = 300;
  // Also in internal/i18n (preview.offline); a test keeps them equal.
  var OFFLINE = {
    en: 'Preview not available offline',
    ru: 'Предпросмотр недоступен без связи с сервером',
    tg: 'Пешнамоиш бе пайвастшавӣ ба сервер дастрас нест'
  };

  function pageLang() {
    var l = (document.documentElement.getAttribute('lang') || 'en').slice(0, 2);
    return OFFLINE[l] ? l : 'en';
  }

  function textLang(box) {
    var l = box.getAttribute('data-preview-lang');
    for (var el = box; !l && el && el.getAttribute; el = el.parentNode) {
      l = el.getAttribute('lang');
    }
    return l || pageLang();
  }

  function csrfOf(box) {
    var f = box.form && box.form.elements ? box.form.elements.namedItem('csrf') : null;
    if (!f) f = document.querySelector('input[name="csrf"]');
    return f ? f.value : '';
  }

  function notice(target, text) {
    var p = document.createElement('p');
    p.className = 'preview-notice';
    p.setAttribute('role', 'status');
    p.textContent = text;
    target.innerHTML = '';
    target.appendChild(p);
  }

  function attach(box) {
    var target = document.getElementById(box.getAttribute('data-preview'));
    if (!target || box.getAttribute('data-preview-ready')) return;
    box.setAttribute('data-preview-ready', '1');
    var timer = null;
    var seq = 0;
    function send() {
      timer = null;
      var mine = ++seq;
      var body = 'csrf=' + encodeURIComponent(csrfOf(box)) +
        '&lang=' + encodeURIComponent(textLang(box)) +
        '&text=' + encodeURIComponent(box.value);
      var xhr = new XMLHttpRequest();
      xhr.open('POST', '/teach/studio/preview');
      xhr.setRequestHeader('Content-Type', 'application/x-www-form-urlencoded');
      xhr.timeout = 15000;
      xhr.onload = function () {
        if (mine !== seq) return; // a later request was sent: its answer wins
        var type = xhr.getResponseHeader('Content-Type') || '';
        if (type.indexOf('text/html') === 0) {
          target.innerHTML = xhr.responseText; // the box escapes the teacher's text
        } else {
          notice(target, OFFLINE[pageLang()]);
        }
        target.setAttribute('aria-busy', 'false');
      };
      xhr.onerror = xhr.ontimeout = function () {
        if (mine !== seq) return;
        notice(target, OFFLINE[pageLang()]);
        target.setAttribute('aria-busy', 'false');
      };
      target.setAttribute('aria-busy', 'true');
      xhr.send(body);
    }
    function later() {
      if (timer) clearTimeout(timer);
      timer = setTimeout(send, DELAY);
    }
    box.addEventListener('input', later);
    if (!target.getAttribute('aria-live')) target.setAttribute('aria-live', 'polite');
    if (box.value) send();
  }

  function attachAll() {
    var boxes = document.querySelectorAll('textarea[data-preview]');
    for (var i = 0; i < boxes.length; i++) attach(boxes[i]);
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', attachAll);
  } else {
    attachAll();
  }
  // Editors that add fields later call this.
  window.stemboxPreview = attachAll;
})();
