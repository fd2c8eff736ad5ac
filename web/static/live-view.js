/* stembox live sessions, 2 of 5: drawing a session's state, shared by the
 * student's, teacher's and projector's pages (live-socket.js first). A
 * choice has a colour, a shape and a letter, the same on the projector and
 * on the phones: shape and letter carry the meaning where colour cannot.
 * The projector passes the choices' texts to the chart (texts). */
(function () {
  'use strict';
  var K = window.stemboxLiveKit, Live = K.Live, el = K.el, clear = K.clear, fmt = K.fmt, letter = K.letter;

  var SCREEN_PLAYERS = 60; // names on the projector (the box's screenPlayers)

  /* The eight shapes, in the palette's order (live.css .live-c0 … .live-c7). */
  var SHAPES = [
    ['triangle', 'M12 2.5 22.5 21H1.5z'],
    ['diamond', 'M12 1.5 22.5 12 12 22.5 1.5 12z'],
    ['circle', 'M2 12a10 10 0 1 0 20 0a10 10 0 1 0-20 0z'],
    ['square', 'M3 3h18v18H3z'],
    ['star', 'M12 1.5l3.1 6.6 7.2.8-5.4 4.9 1.5 7.1L12 17.3l-6.4 3.6 1.5-7.1L1.7 8.9l7.2-.8z'],
    ['pentagon', 'M12 1.5l10.5 7.6-4 12.4h-13l-4-12.4z'],
    ['hexagon', 'M6.5 2.5h11L23 12l-5.5 9.5h-11L1 12z'],
    ['cross', 'M8.5 2h7v6.5H22v7h-6.5V22h-7v-6.5H2v-7h6.5z']
  ];

  /* True and false are blue and amber, never red or green before the
   * reveal ("Дуруст" is true and must not look wrong). */
  var TRUEFALSE = [1, 2];

  /* paletteOf is the palette index of a question's choice i. */
  function paletteOf(q, i) {
    if (q && q.kind === 'truefalse') { return TRUEFALSE[i]; }
    return i % 8;
  }

  function shape(p) {
    var ns = 'http://www.w3.org/2000/svg', svg = document.createElementNS(ns, 'svg');
    svg.setAttribute('viewBox', '0 0 24 24');
    svg.setAttribute('class', 'live-shape');
    svg.setAttribute('aria-hidden', 'true');
    svg.setAttribute('focusable', 'false');
    svg.setAttribute('data-shape', SHAPES[p][0]);
    var path = document.createElementNS(ns, 'path');
    path.setAttribute('d', SHAPES[p][1]);
    svg.appendChild(path);
    return svg;
  }

  /* mark is a choice's shape and letter, in the element e. */
  function mark(e, q, i) {
    var p = paletteOf(q, i), m = el('span', 'live-mark');
    m.appendChild(shape(p));
    m.appendChild(el('span', 'live-letter', letter(i)));
    e.appendChild(m);
    e.setAttribute('data-palette', String(p));
    return p;
  }

  /* choicesOf are the choices of q as HTML, true and false in words. */
  Live.prototype.choicesOf = function (q) {
    if (q.kind === 'truefalse') { return [escapeHTML(this.t['true']), escapeHTML(this.t['false'])]; }
    return q.choices || [];
  };

  function escapeHTML(s) { var d = el('div', '', s); return d.innerHTML; }

  K.paletteOf = paletteOf;
  K.mark = mark;

  /* render draws the state (the student's and teacher's pages; the
   * projector has its own, in live-screen.js). */
  Live.prototype.render = function () {
    var st = this.state;
    if (!st) { return; }
    window.clearInterval(this.timerId);
    clear(this.stage);
    if (this.renderControls) { this.renderControls(); }
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
    if (this.role === 'student' && st.result && st.phase === 'revealed') { this.renderResult(st.result); }
    if (st.question) { this.renderQuestion(st.question, this.stage); }
    if (this.role !== 'student' && st.reveal && st.phase === 'revealed') { this.renderChart(st.question, st.reveal, this.stage); }
  };

  /* timer counts down q's remaining time in e. */
  Live.prototype.timer = function (q, e) {
    var self = this, t = this.t, end = Date.now() + q.remaining_ms;
    var tick = function () {
      var s = Math.max(0, Math.ceil((end - Date.now()) / 1000));
      e.textContent = fmt(t.seconds, s);
      if (s === 0) { window.clearInterval(self.timerId); }
    };
    tick();
    this.timerId = window.setInterval(tick, 250);
  };

  Live.prototype.renderQuestion = function (q, into) {
    var st = this.state, t = this.t;
    var box = el('div', 'live-question');
    var head = el('p', 'live-qn', fmt(t.question_n, q.q + 1, q.n));
    if (q.remaining_ms && st.phase === 'open') {
      var left = el('span', 'live-timer');
      head.appendChild(document.createTextNode(' '));
      head.appendChild(left);
      this.timer(q, left);
    }
    box.appendChild(head);
    this.renderPrompt(q, box);
    into.appendChild(box);
    if (this.role === 'student') { this.renderAnswer(q, box); } else { this.renderOptions(q, box); }
    return box;
  };

  Live.prototype.renderPrompt = function (q, box) {
    if (q.prompt) {
      var prompt = el('div', 'live-prompt');
      if (q.lang) { prompt.setAttribute('lang', q.lang); }
      prompt.innerHTML = q.prompt; /* HTML built by the box from pack or escaped text */
      box.appendChild(prompt);
    } else if (this.role === 'student') {
      box.appendChild(el('p', 'live-lookup', this.t.look_up));
    }
  };

  /* The choices as the projector shows them, marked after the reveal. */
  Live.prototype.renderOptions = function (q, box) {
    var st = this.state, right = rightOf(q, st.reveal), opts = this.choicesOf(q);
    if (opts.length) {
      var ol = el('ol', 'live-options n' + opts.length + (st.reveal ? ' revealed' : ''));
      for (var i = 0; i < opts.length; i++) {
        var li = el('li', right.indexOf(i) >= 0 ? 'right' : '');
        li.className += ' live-c' + mark(li, q, i);
        var span = el('span', 'live-optext');
        span.innerHTML = opts[i];
        li.appendChild(span);
        if (right.indexOf(i) >= 0) { li.appendChild(el('span', 'live-tick', '✓')); }
        ol.appendChild(li);
      }
      box.appendChild(ol);
    }
    if (st.reveal && st.reveal.solution && q.kind !== 'truefalse') {
      box.appendChild(el('p', 'live-solution', this.t.correct_answer + ' ' + this.solution(st.reveal.solution)));
    }
  };

  /* rightOf are the indexes of the right choices after a reveal (a true or
   * false question's from its solution). */
  function rightOf(q, rv) {
    if (!rv) { return []; }
    if (q && q.kind === 'truefalse') {
      if (rv.solution === 'true') { return [0]; }
      if (rv.solution === 'false') { return [1]; }
      return [];
    }
    return rv.right || [];
  }
  K.rightOf = rightOf;

  Live.prototype.solution = function (s) {
    if (s === 'true') { return this.t['true']; }
    if (s === 'false') { return this.t['false']; }
    var d = document.createElement('div');
    d.innerHTML = s;
    return d.textContent;
  };

  /* The chart of the class's answers, drawn with plain elements: a bar of a
   * choice in the choice's colour, with its shape and letter. */
  Live.prototype.renderChart = function (q, rv, into, texts) {
    var t = this.t, bars = rv.bars || [], most = 1, i;
    for (i = 0; i < bars.length; i++) { most = Math.max(most, bars[i].count); }
    var chart = el('div', 'live-chart');
    chart.setAttribute('role', 'img');
    var summary = [];
    var byChoice = q && (q.kind === 'choice' || q.kind === 'multi' || q.kind === 'poll');
    for (i = 0; i < bars.length; i++) {
      var b = bars[i], label, n = -1;
      if (byChoice) { n = +b.label; label = letter(n); } else if (b.label === 'true' || b.label === 'false') { n = b.label === 'true' ? 0 : 1; label = t[b.label]; } else if (b.label === '…') { label = t.other; } else { label = b.label; }
      var row = el('div', 'live-barrow' + (b.correct ? ' right' : ''));
      var head = el('span', 'live-barlabel');
      if (n >= 0) { head.className += ' live-c' + mark(head, q, n); }
      if (n < 0 || !byChoice) {
        head.appendChild(el('span', 'live-barname', label));
      } else if (texts && texts[n]) {
        var name = el('span', 'live-barname');
        name.innerHTML = texts[n];
        head.appendChild(name);
      }
      row.appendChild(head);
      var track = el('span', 'live-bartrack');
      var bar = el('span', 'live-bar-fill' + (n >= 0 ? ' live-c' + paletteOf(q, n) : ''));
      bar.style.width = Math.max(1, Math.round(100 * b.count / most)) + '%';
      track.appendChild(bar);
      row.appendChild(track);
      row.appendChild(el('span', 'live-barcount', b.count));
      row.appendChild(el('span', 'live-tick', b.correct ? '✓' : ''));
      chart.appendChild(row);
      summary.push(label + ': ' + b.count + (b.correct ? ' ✓' : ''));
    }
    chart.setAttribute('aria-label', summary.join(', '));
    into.appendChild(chart);
    into.appendChild(el('p', 'meta live-answered', fmt(t.answered, rv.answered, rv.players)));
  };

  Live.prototype.renderBoard = function (board, into) {
    into = into || this.stage;
    into.appendChild(el('h2', 'live-board-title', this.t.leaderboard));
    var ol = el('ol', 'live-board');
    for (var i = 0; i < board.length; i++) {
      var li = el('li');
      li.appendChild(el('span', 'live-rankn', board[i].rank));
      li.appendChild(el('span', 'live-nick', board[i].nickname));
      li.appendChild(el('span', 'live-pts', board[i].score));
      ol.appendChild(li);
    }
    into.appendChild(ol);
    return ol;
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
    var ul = this.root.querySelector('.live-players');
    if (!ul) { return; }
    clear(ul);
    var ids = [];
    for (var i = 0; i < this.order.length; i++) { if (this.players[this.order[i]]) { ids.push(this.order[i]); } }
    this.order = ids;
    if (!ids.length) { ul.appendChild(el('li', 'meta', this.t.no_players)); return; }
    // The projector shows the latest to join, never a wall of hundreds.
    var shown = this.role === 'screen' ? ids.slice(-SCREEN_PLAYERS) : ids;
    for (i = 0; i < shown.length; i++) {
      var p = this.players[shown[i]], li = el('li', p.online ? 'online' : 'offline');
      li.appendChild(el('span', 'live-nick', p.nickname));
      if (this.playerButtons) { this.playerButtons(li, p); }
      ul.appendChild(li);
    }
    var hidden = Math.max(ids.length, (this.state && this.state.count) || 0) - shown.length;
    if (hidden > 0) { ul.appendChild(el('li', 'meta', fmt(this.t.more_players, hidden))); }
  };
})();
