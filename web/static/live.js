/* stembox live sessions: the student's, projector's and teacher's pages, and
 * the form that makes a session. Plain ES5 for old Android browsers; no
 * inline script (the CSP allows only scripts from the box). The protocol is
 * in docs/live-protocol.md. */
(function () {
  'use strict';

  var CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

  /* A ULID made on the device: the answer's id, so a resend is applied once. */
  function ulid() {
    var t = Date.now(), s = '', i, rnd = [];
    for (i = 9; i >= 0; i--) { s = CROCKFORD.charAt(t % 32) + s; t = Math.floor(t / 32); }
    if (window.crypto && window.crypto.getRandomValues) {
      var a = new Uint8Array(16);
      window.crypto.getRandomValues(a);
      for (i = 0; i < 16; i++) { rnd.push(a[i] % 32); }
    } else {
      for (i = 0; i < 16; i++) { rnd.push(Math.floor(Math.random() * 32)); }
    }
    for (i = 0; i < 16; i++) { s += CROCKFORD.charAt(rnd[i]); }
    return s;
  }

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined && text !== null) { e.appendChild(document.createTextNode(String(text))); }
    return e;
  }

  function clear(e) { while (e.firstChild) { e.removeChild(e.firstChild); } }

  var SCREEN_PLAYERS = 60; // names on the projector (the box's screenPlayers)

  function fmt(s) {
    var args = Array.prototype.slice.call(arguments, 1), i = 0;
    return String(s).replace(/%[ds]/g, function () { return args.length > i ? String(args[i++]) : ''; });
  }

  function letter(i) { return String.fromCharCode(65 + i); }

  function store(key, value) {
    try {
      if (value === undefined) { return JSON.parse(window.localStorage.getItem(key) || 'null'); }
      if (value === null) { window.localStorage.removeItem(key); } else { window.localStorage.setItem(key, JSON.stringify(value)); }
    } catch (e) { /* private mode: the server still has every stored answer */ }
    return null;
  }

  /* ---------- the form that makes a session ---------- */

  function setupNewForm(form) {
    var blocks = form.querySelector('.live-blocks');
    function showFields(block) {
      var kind = block.querySelector('.live-kind').value;
      var parts = block.querySelectorAll('[class*="for-"]');
      for (var i = 0; i < parts.length; i++) {
        parts[i].hidden = (' ' + parts[i].className + ' ').indexOf(' for-' + kind + ' ') < 0;
      }
    }
    function wire(block) {
      var sel = block.querySelector('.live-kind');
      sel.addEventListener('change', function () { showFields(block); });
      showFields(block);
    }
    var all = blocks.querySelectorAll('.live-block');
    for (var i = 0; i < all.length; i++) { wire(all[i]); }
    var add = form.querySelector('.live-add');
    add.hidden = false;
    add.addEventListener('click', function () {
      var list = blocks.querySelectorAll('.live-block');
      if (list.length >= 100) { return; }
      var last = list[list.length - 1], n = list.length + 1;
      var copy = last.cloneNode(true);
      copy.setAttribute('data-n', n);
      var legend = copy.querySelector('legend');
      legend.textContent = legend.textContent.replace(/\d+/, String(n));
      var fields = copy.querySelectorAll('[name]');
      for (var j = 0; j < fields.length; j++) {
        fields[j].name = fields[j].name.replace(/^q\d+_/, 'q' + n + '_');
        if (fields[j].tagName === 'TEXTAREA' || (fields[j].tagName === 'INPUT' && fields[j].type === 'text')) { fields[j].value = ''; }
      }
      blocks.appendChild(copy);
      wire(copy);
      copy.querySelector('textarea').focus();
    });
  }

  /* ---------- the live pages ---------- */

  function Live(root) {
    this.root = root;
    this.role = root.getAttribute('data-role');
    this.code = root.getAttribute('data-code');
    this.t = JSON.parse(root.getAttribute('data-i18n') || '{}');
    this.stage = root.querySelector('.live-stage');
    this.statusEl = root.querySelector('.live-status');
    this.players = {};
    this.order = [];
    this.state = null;
    this.backoff = 0;
    this.stopped = false;
    this.timerId = null;
    this.retryId = null;
    this.connect();
  }

  Live.prototype.status = function (text, bad) {
    if (this.statusEl) {
      this.statusEl.textContent = text;
      this.statusEl.className = 'live-status' + (bad ? ' bad' : '');
    }
  };

  Live.prototype.connect = function () {
    var self = this, proto = window.location.protocol === 'https:' ? 'wss://' : 'ws://';
    var ws;
    try {
      ws = new WebSocket(proto + window.location.host + '/live/' + this.code + '/ws?role=' + this.role);
    } catch (e) { this.reconnect(); return; }
    this.ws = ws;
    ws.onopen = function () { self.backoff = 0; self.status(''); };
    ws.onmessage = function (ev) {
      var m;
      try { m = JSON.parse(ev.data); } catch (e) { return; }
      self.handle(m);
    };
    ws.onclose = function (ev) {
      self.ws = null;
      switch (ev.code) {
        case 4001: window.location.href = '/live/' + self.code; return;
        case 4003: self.stop(self.t.removed); return;
        case 4010: self.stop(self.t.unauthorized); return;
        case 4000: self.stop(self.t.replaced); return;
      }
      self.reconnect();
    };
  };

  /* Reconnect with capped exponential backoff and jitter, so a classroom
   * whose Wi-Fi comes back does not arrive all at once. */
  Live.prototype.reconnect = function () {
    if (this.stopped) { return; }
    var self = this, delay = Math.min(10000, 500 * Math.pow(2, this.backoff)) * (0.5 + Math.random());
    this.backoff = Math.min(this.backoff + 1, 5);
    this.status(this.t.reconnecting, true);
    window.setTimeout(function () { self.connect(); }, delay);
  };

  Live.prototype.stop = function (text) {
    this.stopped = true;
    this.status(text, true);
    clear(this.stage);
    this.stage.appendChild(el('p', 'live-wait', text));
  };

  Live.prototype.send = function (m) {
    if (this.ws && this.ws.readyState === 1) { this.ws.send(JSON.stringify(m)); return true; }
    return false;
  };

  Live.prototype.handle = function (m) {
    switch (m.type) {
      case 'state': this.onState(m); break;
      case 'question': this.onQuestion(m); break;
      case 'closed': this.onClosed(m); break;
      case 'reveal': this.onReveal(m); break;
      case 'result': this.onResult(m); break;
      case 'board': this.onBoard(m.board); break;
      case 'ended': this.onEnded(m); break;
      case 'ack': this.onAck(m); break;
      case 'players': this.onPlayers(m); break;
      case 'counts': this.onCounts(m); break;
      case 'you': this.onYou(m); break;
      case 'locked': if (this.state) { this.state.locked = m.locked; if (this.role === 'teacher') { this.renderControls(); } } break;
      case 'error': this.onError(m); break;
    }
  };

  Live.prototype.onState = function (m) {
    var st = this.state = m;
    st.answer = m.answer || null;
    if (this.role !== 'student') {
      this.players = {};
      this.order = [];
      for (var i = 0; i < (m.players || []).length; i++) { this.setPlayer(m.players[i]); }
      this.renderPlayers();
      this.renderCount(m.count, m.online, m.answered);
    } else if (m.me) {
      this.onYou(m.me);
    }
    this.render();
    if (this.role === 'student' && st.phase === 'open' && st.question) { this.resendPending(); }
  };

  Live.prototype.onQuestion = function (m) {
    var st = this.state;
    if (!st) { return; }
    st.phase = 'open';
    st.q = m.q;
    st.question = m;
    st.answer = null;
    st.reveal = null;
    st.result = null;
    st.answered = 0;
    this.render();
  };

  Live.prototype.onClosed = function () {
    if (!this.state) { return; }
    this.state.phase = 'closed';
    this.render();
  };

  Live.prototype.onReveal = function (m) {
    if (!this.state) { return; }
    this.state.phase = 'revealed';
    this.state.reveal = m;
    this.render();
  };

  Live.prototype.onResult = function (m) {
    if (!this.state) { return; }
    this.state.result = m;
    if (this.state.options.points) { this.showScore(m.score); }
    this.render();
  };

  Live.prototype.onBoard = function (board) {
    if (!this.state) { return; }
    this.state.phase = 'board';
    this.state.board = board;
    this.render();
  };

  Live.prototype.onEnded = function (m) {
    if (!this.state) { return; }
    this.state.phase = 'ended';
    this.state.board = m.board || null;
    this.render();
  };

  Live.prototype.onAck = function (m) {
    var st = this.state;
    if (st && st.answer && st.answer.id === m.id) {
      st.answer.stored = true;
      store(this.pendingKey(), null);
      this.render();
    }
  };

  Live.prototype.onYou = function (m) {
    var me = this.root.querySelector('.live-me');
    if (me) { me.textContent = m.nickname; }
    if (this.state && this.state.options.points) { this.showScore(m.score); }
  };

  Live.prototype.showScore = function (score) {
    var e = this.root.querySelector('.live-score');
    if (e) { e.hidden = false; e.textContent = fmt(this.t.score, score); }
  };

  Live.prototype.onError = function (m) {
    var t = this.t['err.' + m.code] || this.t['err.other'];
    var st = this.state;
    if (this.role === 'student' && st && st.answer && m.ref === st.answer.id) {
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
    }
    this.flash(t);
  };

  Live.prototype.flash = function (text) {
    var box = this.root.querySelector('.live-flash');
    if (!box) { box = el('p', 'live-flash error'); box.setAttribute('role', 'alert'); this.stage.parentNode.insertBefore(box, this.stage); }
    box.textContent = text;
    box.hidden = false;
    window.clearTimeout(this.flashId);
    this.flashId = window.setTimeout(function () { box.hidden = true; }, 5000);
  };

  /* ---------- the student's answer ---------- */

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

  /* ---------- rendering ---------- */

  Live.prototype.render = function () {
    var st = this.state;
    if (!st) { return; }
    window.clearInterval(this.timerId);
    clear(this.stage);
    if (this.role === 'teacher') { this.renderControls(); }
    if (st.phase === 'lobby') {
      this.stage.appendChild(el('p', 'live-wait', this.t.waiting));
      return;
    }
    if (st.phase === 'board' && st.board) { this.renderBoard(st.board); return; }
    if (st.phase === 'ended') {
      this.stage.appendChild(el('h2', 'live-ended', this.t.ended));
      if (this.role === 'student' && st.result) { this.renderResult(st.result); }
      if (st.board) { this.renderBoard(st.board); }
      return;
    }
    if (st.question) { this.renderQuestion(st.question); }
    if (this.role !== 'student' && st.reveal && (st.phase === 'revealed')) { this.renderChart(st.question, st.reveal); }
    if (this.role === 'student' && st.result && st.phase === 'revealed') { this.renderResult(st.result); }
  };

  Live.prototype.renderQuestion = function (q) {
    var st = this.state, self = this, t = this.t;
    var box = el('div', 'live-question');
    var head = el('p', 'live-qn', fmt(t.question_n, q.q + 1, q.n));
    if (q.remaining_ms && st.phase === 'open') {
      var left = el('span', 'live-timer'), end = Date.now() + q.remaining_ms;
      head.appendChild(document.createTextNode(' '));
      head.appendChild(left);
      var tick = function () {
        var s = Math.max(0, Math.ceil((end - Date.now()) / 1000));
        left.textContent = fmt(t.seconds, s);
        if (s === 0) { window.clearInterval(self.timerId); }
      };
      tick();
      this.timerId = window.setInterval(tick, 250);
    }
    box.appendChild(head);
    if (q.prompt) {
      var prompt = el('div', 'live-prompt');
      if (q.lang) { prompt.setAttribute('lang', q.lang); }
      prompt.innerHTML = q.prompt; /* HTML built by the box from pack or escaped text */
      box.appendChild(prompt);
    } else if (this.role === 'student') {
      box.appendChild(el('p', 'live-lookup', t.look_up));
    }
    this.stage.appendChild(box);
    if (this.role === 'student') { this.renderAnswer(q, box); } else { this.renderOptions(q, box); }
  };

  /* The choices as the projector shows them, marked after the reveal. */
  Live.prototype.renderOptions = function (q, box) {
    var st = this.state, right = (st.reveal && st.reveal.right) || [];
    if (q.choices && q.choices.length) {
      var ol = el('ol', 'live-options');
      for (var i = 0; i < q.choices.length; i++) {
        var li = el('li', right.indexOf(i) >= 0 ? 'right' : '');
        li.appendChild(el('span', 'live-letter', letter(i)));
        var span = el('span');
        span.innerHTML = q.choices[i];
        li.appendChild(span);
        ol.appendChild(li);
      }
      box.appendChild(ol);
    }
    if (st.reveal && st.reveal.solution) {
      this.stage.appendChild(el('p', 'live-solution', this.t.correct_answer + ' ' + this.solution(st.reveal.solution)));
    }
  };

  Live.prototype.solution = function (s) {
    if (s === 'true') { return this.t['true']; }
    if (s === 'false') { return this.t['false']; }
    var d = document.createElement('div');
    d.innerHTML = s;
    return d.textContent;
  };

  Live.prototype.renderAnswer = function (q, box) {
    var st = this.state, self = this, t = this.t, a = st.answer;
    var done = !!a || st.phase !== 'open';
    var right = (st.reveal && st.reveal.right) || [];
    var form = el('form', 'live-answer');
    form.setAttribute('novalidate', '');
    var kind = q.kind, picked = (a && a.choices) || [];
    if (kind === 'choice' || kind === 'poll' || kind === 'multi' || kind === 'truefalse') {
      var opts = kind === 'truefalse' ? [t['true'], t['false']] : q.choices;
      if (kind === 'multi' && !done) { form.appendChild(el('p', 'hint', t.pick_all)); }
      var grid = el('div', 'live-buttons');
      var multi = [];
      for (var i = 0; i < opts.length; i++) {
        (function (i) {
          var b = el('button', 'live-choice live-c' + (i % 8));
          b.type = 'button';
          b.appendChild(el('span', 'live-letter', kind === 'truefalse' ? '' : letter(i)));
          var label = el('span', 'live-label');
          if (kind === 'truefalse') { label.textContent = opts[i]; } else { label.innerHTML = opts[i] || ''; }
          b.appendChild(label);
          var isPicked = kind === 'truefalse' ? (a && a.text === (i === 0 ? 'true' : 'false')) : picked.indexOf(i) >= 0;
          if (isPicked) { b.className += ' picked'; }
          if (kind !== 'truefalse' && right.indexOf(i) >= 0) { b.className += ' right'; }
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
    } else {
      var input = el('input', 'live-text');
      input.type = 'text';
      input.autocomplete = 'off';
      input.maxLength = 200;
      if (kind === 'numeric') { input.setAttribute('inputmode', 'decimal'); input.placeholder = t.number_hint; }
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
    }
    box.appendChild(form);
    var note;
    if (a) {
      note = el('p', 'live-ack' + (a.stored ? ' ok' : ''), a.stored ? t.answer_received : t.answer_sent);
    } else if (st.phase !== 'open') {
      note = el('p', 'live-ack', st.phase === 'closed' ? t.closed : t.not_answered);
    }
    if (note) { note.setAttribute('role', 'status'); box.appendChild(note); }
    if (st.reveal && st.reveal.solution && st.phase === 'revealed') {
      box.appendChild(el('p', 'live-solution', t.correct_answer + ' ' + this.solution(st.reveal.solution)));
    }
  };

  Live.prototype.renderResult = function (r) {
    var t = this.t, st = this.state;
    var kind = st.question && st.question.kind;
    var p;
    if (!r.answered) { p = el('p', 'live-result', t.not_answered); } else if (kind === 'poll') { p = el('p', 'live-result ok', t.poll_done); } else {
      p = el('p', 'live-result ' + (r.correct ? 'ok' : 'bad'), r.correct ? t.right : t.wrong);
    }
    this.stage.appendChild(p);
    if (st.options.points) {
      if (r.points) { this.stage.appendChild(el('p', 'live-points', fmt(t.points, r.points))); }
      if (r.rank) { this.stage.appendChild(el('p', 'live-rank', fmt(t.rank, r.rank, r.of))); }
    }
  };

  /* The chart of the class's answers, drawn with plain elements. */
  Live.prototype.renderChart = function (q, rv) {
    var t = this.t, bars = rv.bars || [], most = 1, i;
    for (i = 0; i < bars.length; i++) { most = Math.max(most, bars[i].count); }
    var chart = el('div', 'live-chart');
    chart.setAttribute('role', 'img');
    var summary = [];
    for (i = 0; i < bars.length; i++) {
      var b = bars[i], label;
      if (q && (q.kind === 'choice' || q.kind === 'multi' || q.kind === 'poll')) { label = letter(+b.label); } else if (b.label === 'true' || b.label === 'false') { label = t[b.label]; } else if (b.label === '…') { label = t.other; } else { label = b.label; }
      var row = el('div', 'live-barrow' + (b.correct ? ' right' : ''));
      row.appendChild(el('span', 'live-barlabel', label));
      var track = el('span', 'live-bartrack');
      var bar = el('span', 'live-bar-fill');
      bar.style.width = Math.round(100 * b.count / most) + '%';
      track.appendChild(bar);
      row.appendChild(track);
      row.appendChild(el('span', 'live-barcount', b.count));
      chart.appendChild(row);
      summary.push(label + ': ' + b.count);
    }
    chart.setAttribute('aria-label', summary.join(', '));
    this.stage.appendChild(chart);
    this.stage.appendChild(el('p', 'meta', fmt(t.answered, rv.answered, rv.players)));
  };

  Live.prototype.renderBoard = function (board) {
    var t = this.t;
    this.stage.appendChild(el('h2', '', t.leaderboard));
    var ol = el('ol', 'live-board');
    for (var i = 0; i < board.length; i++) {
      var li = el('li');
      li.appendChild(el('span', 'live-rankn', board[i].rank));
      li.appendChild(el('span', 'live-nick', board[i].nickname));
      li.appendChild(el('span', 'live-pts', board[i].score));
      ol.appendChild(li);
    }
    this.stage.appendChild(ol);
  };

  /* ---------- players, counts, the teacher's buttons ---------- */

  Live.prototype.setPlayer = function (p) {
    if (!this.players[p.id]) { this.order.push(p.id); }
    this.players[p.id] = p;
  };

  Live.prototype.onPlayers = function (m) {
    var i;
    for (i = 0; i < (m.add || []).length; i++) { this.setPlayer(m.add[i]); }
    for (i = 0; i < (m.remove || []).length; i++) { delete this.players[m.remove[i]]; }
    this.renderPlayers();
    this.renderCount(m.count, m.online, m.answered);
  };

  Live.prototype.onCounts = function (m) {
    if (!this.state) { return; }
    this.state.answered = m.answered;
    this.renderCount(m.players, null, m.answered);
  };

  Live.prototype.renderCount = function (count, online, answered) {
    var st = this.state, e = this.root.querySelector('.live-count');
    if (!e || !st) { return; }
    if (count !== null && count !== undefined) { st.count = count; }
    if (online !== null && online !== undefined) { st.online = online; }
    var text = fmt(this.t.players, st.count || 0);
    if (st.q >= 0 && (st.phase === 'open' || st.phase === 'closed')) { text += ' · ' + fmt(this.t.answered, answered || 0, st.count || 0); }
    e.textContent = text;
  };

  Live.prototype.renderPlayers = function () {
    var ul = this.root.querySelector('.live-players'), self = this;
    if (!ul) { return; }
    clear(ul);
    var ids = [];
    for (var i = 0; i < this.order.length; i++) { if (this.players[this.order[i]]) { ids.push(this.order[i]); } }
    this.order = ids;
    if (!ids.length) { ul.appendChild(el('li', 'meta', this.t.no_players)); return; }
    // The projector shows the latest to join, never a wall of hundreds.
    var shown = this.role === 'screen' ? ids.slice(-SCREEN_PLAYERS) : ids;
    for (i = 0; i < shown.length; i++) {
      (function (p) {
        var li = el('li', p.online ? 'online' : 'offline');
        li.appendChild(el('span', 'live-nick', p.nickname));
        if (self.role === 'teacher') {
          var rn = el('button', 'link', self.t.rename);
          rn.type = 'button';
          rn.addEventListener('click', function () { self.send({ type: 'rename', player: p.id }); });
          var kick = el('button', 'link', self.t.kick);
          kick.type = 'button';
          kick.addEventListener('click', function () {
            if (window.confirm(fmt(self.t.kick_confirm, p.nickname))) { self.send({ type: 'kick', player: p.id }); }
          });
          var kickAll = el('button', 'link', self.t.kick_addr);
          kickAll.type = 'button';
          kickAll.addEventListener('click', function () {
            if (window.confirm(fmt(self.t.kick_addr_confirm, p.nickname))) { self.send({ type: 'kick', player: p.id, same_address: true }); }
          });
          li.appendChild(rn);
          li.appendChild(kick);
          li.appendChild(kickAll);
        }
        ul.appendChild(li);
      })(this.players[shown[i]]);
    }
    var hidden = Math.max(ids.length, (this.state && this.state.count) || 0) - shown.length;
    if (hidden > 0) { ul.appendChild(el('li', 'meta', fmt(this.t.more_players, hidden))); }
  };

  Live.prototype.renderControls = function () {
    var bar = this.root.querySelector('.live-controls'), st = this.state, self = this, t = this.t;
    if (!bar) { return; }
    clear(bar);
    var last = st.q >= st.n - 1, cmds = [];
    switch (st.phase) {
      case 'lobby': cmds = ['start', 'end']; break;
      case 'open': cmds = ['close', 'end']; break;
      case 'closed': cmds = ['reveal'].concat(last ? [] : ['next']).concat(['end']); break;
      case 'revealed': cmds = (st.options.points ? ['board'] : []).concat(last ? [] : ['next']).concat(['end']); break;
      case 'board': cmds = (last ? [] : ['next']).concat(['end']); break;
    }
    for (var i = 0; i < cmds.length; i++) {
      (function (cmd, first) {
        var b = el('button', 'button live-cmd live-cmd-' + cmd + (first ? '' : ' secondary'), t[cmd]);
        b.type = 'button';
        b.addEventListener('click', function () {
          if (cmd === 'end' && !window.confirm(t.end_confirm)) { return; }
          b.disabled = true;
          self.send({ type: cmd, q: st.q });
        });
        bar.appendChild(b);
      })(cmds[i], i === 0);
    }
    if (st.phase !== 'ended') {
      var lock = el('button', 'button secondary live-lock', st.locked ? t.unlock : t.lock);
      lock.type = 'button';
      lock.setAttribute('aria-pressed', st.locked ? 'true' : 'false');
      lock.addEventListener('click', function () {
        lock.disabled = true;
        self.send({ type: st.locked ? 'unlock' : 'lock' });
      });
      bar.appendChild(lock);
      if (st.locked) { bar.appendChild(el('span', 'live-locked', t.locked)); }
    }
  };

  function start() {
    var root = document.getElementById('live');
    if (root) { window.stemboxLive = new Live(root); }
    var form = document.getElementById('live-new');
    if (form) { setupNewForm(form); }
  }

  if (document.readyState === 'loading') { document.addEventListener('DOMContentLoaded', start); } else { start(); }
})();
