/* stembox live sessions, 3 of 5: the student's answer and result, on a
 * phone (after live-socket.js and live-view.js). The buttons are big, each
 * with its colour, shape and letter as on the projector; the result comes
 * first on the page, where a phone shows it without scrolling. */
(function () {
  'use strict';
  var K = window.stemboxLiveKit, Live = K.Live, el = K.el, fmt = K.fmt, store = K.store, ulid = K.ulid;

  Live.prototype.pendingKey = function () { return 'stembox-live-' + this.code; };

  Live.prototype.submit = function (choices, text) {
    var st = this.state;
    if (!st || st.phase !== 'open' || st.answer) { return; }
    var a = { id: ulid(), q: st.q, stored: false };
    if (choices) { a.choices = choices; } else { a.text = text; }
    st.answer = a;
    store(this.pendingKey(), a);
    this.sendAnswer(a);
    this.render();
  };

  Live.prototype.sendAnswer = function (a) {
    var m = { type: 'answer', session: this.code, q: a.q, id: a.id };
    if (a.choices) { m.choices = a.choices; } else { m.text = a.text; }
    this.send(m);
  };

  /* After a reconnect or a reload: an answer sent but not acknowledged is
   * sent again with its id; the box applies it once. */
  Live.prototype.resendPending = function () {
    var st = this.state, p = store(this.pendingKey());
    if (st.answer && st.answer.stored) { store(this.pendingKey(), null); return; }
    if (!st.answer && p && p.q === st.q) { st.answer = p; this.render(); }
    if (st.answer && !st.answer.stored) { this.sendAnswer(st.answer); }
  };

  Live.prototype.onAck = function (m) {
    var st = this.state;
    if (st && st.answer && st.answer.id === m.id) {
      st.answer.stored = true;
      store(this.pendingKey(), null);
      this.render();
    }
  };

  /* answerError is what an error about this device's answer does to it. */
  Live.prototype.answerError = function (m) {
    var st = this.state;
    if (!st || !st.answer || m.ref !== st.answer.id) { return; }
    if (m.code === 'busy' || m.code === 'store_failed') {
      /* Not stored: send the same answer (same id) again shortly. */
      var self = this;
      window.clearTimeout(this.retryId);
      this.retryId = window.setTimeout(function () { self.resendPending(); }, 1000 + Math.random() * 2000);
    } else if (m.code !== 'already_answered') {
      st.answer = null;
      store(this.pendingKey(), null);
    }
    this.render();
  };

  Live.prototype.renderAnswer = function (q, box) {
    var st = this.state, t = this.t, a = st.answer;
    var done = !!a || st.phase !== 'open';
    var form = el('form', 'live-answer');
    form.setAttribute('novalidate', '');
    var kind = q.kind;
    if (kind === 'choice' || kind === 'poll' || kind === 'multi' || kind === 'truefalse') {
      this.renderButtons(q, form, done);
    } else {
      this.renderTextAnswer(q, form, done);
    }
    box.appendChild(form);
    var note;
    if (a) {
      note = el('p', 'live-ack' + (a.stored ? ' ok' : ''), a.stored ? t.answer_received : t.answer_sent);
    } else if (st.phase !== 'open') {
      note = el('p', 'live-ack', st.phase === 'closed' ? t.closed : t.not_answered);
    }
    if (note) { note.setAttribute('role', 'status'); box.appendChild(note); }
    if (st.reveal && st.reveal.solution && st.phase === 'revealed' && kind !== 'truefalse') {
      box.appendChild(el('p', 'live-solution', t.correct_answer + ' ' + this.solution(st.reveal.solution)));
    }
  };

  Live.prototype.renderButtons = function (q, form, done) {
    var st = this.state, self = this, t = this.t, a = st.answer, kind = q.kind;
    var opts = this.choicesOf(q), picked = (a && a.choices) || [];
    var right = st.phase === 'revealed' ? K.rightOf(q, st.reveal) : [];
    if (kind === 'multi' && !done) { form.appendChild(el('p', 'hint', t.pick_all)); }
    var grid = el('div', 'live-buttons n' + opts.length + (long(opts) ? ' long' : ''));
    var multi = [];
    for (var i = 0; i < opts.length; i++) {
      (function (i) {
        var b = el('button', 'live-choice');
        b.type = 'button';
        b.className += ' live-c' + K.mark(b, q, i);
        var label = el('span', 'live-label');
        label.innerHTML = opts[i] || '';
        b.appendChild(label);
        var isPicked = kind === 'truefalse' ? !!(a && a.text === (i === 0 ? 'true' : 'false')) : picked.indexOf(i) >= 0;
        if (isPicked) { b.className += ' picked'; }
        if (right.indexOf(i) >= 0) { b.className += ' right'; b.appendChild(el('span', 'live-tick', '✓')); }
        b.disabled = done;
        b.setAttribute('aria-pressed', isPicked ? 'true' : 'false');
        b.addEventListener('click', function () {
          if (kind === 'multi') {
            var k = multi.indexOf(i);
            if (k >= 0) { multi.splice(k, 1); b.className = b.className.replace(' picked', ''); } else { multi.push(i); b.className += ' picked'; }
            b.setAttribute('aria-pressed', k >= 0 ? 'false' : 'true');
            return;
          }
          if (kind === 'truefalse') { self.submit(null, i === 0 ? 'true' : 'false'); } else { self.submit([i]); }
        });
        grid.appendChild(b);
      })(i);
    }
    form.appendChild(grid);
    if (kind === 'multi' && !done) {
      var send = el('button', 'button', t.send);
      send.type = 'submit';
      form.appendChild(send);
      form.addEventListener('submit', function (e) {
        e.preventDefault();
        if (multi.length) { self.submit(multi.slice().sort()); }
      });
    }
  };

  /* long: a choice too long for half a phone's width; the buttons then
   * take a line each. */
  function long(opts) {
    for (var i = 0; i < opts.length; i++) {
      var d = el('div');
      d.innerHTML = opts[i] || '';
      var text = d.textContent, words = text.split(/\s+/);
      if (text.length > 36 || d.querySelector('img,.katex')) { return true; }
      for (var j = 0; j < words.length; j++) { if (words[j].length > 11) { return true; } }
    }
    return false;
  }

  Live.prototype.renderTextAnswer = function (q, form, done) {
    var self = this, t = this.t, a = this.state.answer;
    var input = el('input', 'live-text');
    input.type = 'text';
    input.autocomplete = 'off';
    input.maxLength = 200;
    if (q.kind === 'numeric') { input.setAttribute('inputmode', 'decimal'); input.placeholder = t.number_hint; }
    input.setAttribute('aria-label', t.your_answer);
    if (a) { input.value = a.text || ''; }
    input.disabled = done;
    form.appendChild(input);
    if (q.unit) { form.appendChild(el('span', 'unit', ' ' + q.unit)); }
    if (!done) {
      var ok = el('button', 'button', t.send);
      ok.type = 'submit';
      form.appendChild(ok);
    }
    form.addEventListener('submit', function (e) {
      e.preventDefault();
      var v = input.value.replace(/^\s+|\s+$/g, '');
      if (v) { self.submit(null, v); }
    });
  };

  /* The result, first on the stage: right, wrong, or not answered, in
   * words and a sign, with the points and the rank. */
  Live.prototype.renderResult = function (r) {
    var t = this.t, st = this.state;
    var kind = st.question && st.question.kind;
    var box = el('div', 'live-result-box'), p;
    if (!r.answered) { p = el('p', 'live-result', t.not_answered); } else if (kind === 'poll') { p = el('p', 'live-result ok', t.poll_done); } else {
      p = el('p', 'live-result ' + (r.correct ? 'ok' : 'bad'), (r.correct ? '✓ ' : '✗ ') + (r.correct ? t.right : t.wrong));
    }
    p.setAttribute('role', 'status');
    box.appendChild(p);
    if (st.options.points) {
      if (r.points) { box.appendChild(el('p', 'live-points', fmt(t.points, r.points))); }
      if (r.rank) { box.appendChild(el('p', 'live-rank', fmt(t.rank, r.rank, r.of))); }
    }
    this.stage.appendChild(box);
  };
})();
