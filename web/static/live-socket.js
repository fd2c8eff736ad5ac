/* stembox live sessions, 1 of 5: the connection to the box and the state it
 * keeps. The pages load this file first, then live-view.js and their own
 * (live-play.js for students, live-control.js for the teacher,
 * live-screen.js for the projector). Plain ES5 for old Android browsers; no
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

  /* One live page. data-role is how the page draws (student, teacher,
   * screen); data-connect, when set, is the role it connects as (the
   * projector of a browser that holds the teacher's cookie connects as the
   * teacher, so that its keyboard can lead). */
  function Live(root) {
    this.root = root;
    this.role = root.getAttribute('data-role');
    this.connectAs = root.getAttribute('data-connect') || this.role;
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
    if (this.init) { this.init(); }
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
      ws = new WebSocket(proto + window.location.host + '/live/' + this.code + '/ws?role=' + this.connectAs);
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
        case 4010:
          if (self.connectAs !== self.role) { self.connectAs = self.role; self.reconnect(); return; }
          self.stop(self.t.unauthorized); return;
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
      case 'closed': this.setPhase('closed'); break;
      case 'reveal': if (this.state) { this.state.reveal = m; } this.setPhase('revealed'); break;
      case 'result': this.onResult(m); break;
      case 'board': if (this.state) { this.state.board = m.board; } this.setPhase('board'); break;
      case 'ended': if (this.state) { this.state.board = m.board || null; } this.setPhase('ended'); break;
      case 'ack': if (this.onAck) { this.onAck(m); } break;
      case 'players': this.onPlayers(m); break;
      case 'counts': this.onCounts(m); break;
      case 'you': this.onYou(m); break;
      case 'locked': if (this.state) { this.state.locked = m.locked; if (this.renderControls) { this.renderControls(); } } break;
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
    st.q = m.q;
    st.question = m;
    st.answer = null;
    st.reveal = null;
    st.result = null;
    st.answered = 0;
    this.setPhase('open');
    this.renderCount(null, null, 0);
  };

  Live.prototype.setPhase = function (phase) {
    if (!this.state) { return; }
    this.state.phase = phase;
    this.render();
  };

  Live.prototype.onResult = function (m) {
    if (!this.state) { return; }
    this.state.result = m;
    if (this.state.options.points) { this.showScore(m.score); }
    this.render();
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
    if (this.answerError) { this.answerError(m); }
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

  /* ---------- players and counts (the projector and the teacher) ---------- */

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

  /* commands are the teacher's commands in a phase, the one that moves the
   * lesson on first: what the control page's buttons and the projector's
   * space bar send. */
  Live.prototype.commands = function () {
    var st = this.state, last = st.q >= st.n - 1;
    switch (st.phase) {
      case 'lobby': return ['start', 'end'];
      case 'open': return ['close', 'end'];
      case 'closed': return ['reveal'].concat(last ? [] : ['next']).concat(['end']);
      case 'revealed': return (st.options.points ? ['board'] : []).concat(last ? [] : ['next']).concat(['end']);
      case 'board': return (last ? [] : ['next']).concat(['end']);
    }
    return [];
  };

  window.stemboxLiveKit = { Live: Live, el: el, clear: clear, fmt: fmt, letter: letter, store: store, ulid: ulid };

  function start() {
    var root = document.getElementById('live');
    if (root) { window.stemboxLive = new Live(root); }
  }

  /* The page's other live scripts come after this one: start once all ran. */
  if (document.readyState === 'loading') { document.addEventListener('DOMContentLoaded', start); } else { window.setTimeout(start, 0); }
})();
