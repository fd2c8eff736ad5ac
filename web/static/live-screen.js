/* stembox live sessions, 5 of 5: the projector (after live-socket.js and
 * live-view.js). One phase fills the whole screen: the lobby (drawn by the
 * box: the code, the QR code, the links; here the players), the question,
 * the reveal's chart, the leaderboard and the podium. A phase too long for
 * the screen shrinks until it fits; nothing scrolls.
 *
 * Keys: F toggles full screen. Space, → and Page Down (a presenter's
 * clicker) do what the control page's first button does (start, close,
 * reveal, leaderboard, next; never "end"), and only where this browser
 * holds the teacher's cookie of the session (the box then sets
 * data-connect="teacher"); on any other projector they do nothing. */
(function () {
  'use strict';
  var K = window.stemboxLiveKit, Live = K.Live, el = K.el, clear = K.clear, fmt = K.fmt;
  var baseRenderPlayers = Live.prototype.renderPlayers;

  Live.prototype.init = function () {
    var self = this;
    this.bar = this.root.querySelector('.live-screen-bar');
    document.addEventListener('keydown', function (e) { self.onKey(e); });
    window.addEventListener('resize', function () { self.fit(); });
    /* Pictures in a question load after it is drawn: fit again. */
    this.stage.addEventListener('load', function () { self.fit(); }, true);
  };

  Live.prototype.onKey = function (e) {
    if (e.ctrlKey || e.altKey || e.metaKey) { return; }
    var k = e.key;
    if (k === 'f' || k === 'F' || k === 'а' || k === 'А') { this.fullScreen(); e.preventDefault(); return; }
    if (k === ' ' || k === 'Spacebar' || k === 'ArrowRight' || k === 'Right' || k === 'PageDown') {
      e.preventDefault();
      this.advance();
    }
  };

  /* advance sends the phase's first command, as the control page's first
   * button does; it reports whether it sent one. */
  Live.prototype.advance = function () {
    var st = this.state;
    if (!st || this.connectAs !== 'teacher') { return false; }
    var cmd = this.commands()[0], key = st.phase + ':' + st.q;
    if (!cmd || cmd === 'end' || this.sentFor === key) { return false; }
    if (this.send({ type: cmd, q: st.q })) { this.sentFor = key; return true; }
    return false;
  };

  Live.prototype.fullScreen = function () {
    var d = document, e = d.documentElement;
    if (d.fullscreenElement || d.webkitFullscreenElement) {
      if (d.exitFullscreen) { d.exitFullscreen(); } else if (d.webkitExitFullscreen) { d.webkitExitFullscreen(); }
    } else if (e.requestFullscreen) { e.requestFullscreen(); } else if (e.webkitRequestFullscreen) { e.webkitRequestFullscreen(); }
  };

  Live.prototype.render = function () {
    var st = this.state, t = this.t;
    if (!st) { return; }
    window.clearInterval(this.timerId);
    this.sentFor = null;
    this.root.setAttribute('data-phase', st.phase);
    clear(this.stage);
    this.stage.style.fontSize = '';
    var qpos = this.bar.querySelector('.live-qpos'), timer = this.bar.querySelector('.live-timer');
    qpos.textContent = st.q >= 0 && st.phase !== 'lobby' && st.phase !== 'ended' ? fmt(t.question_n, st.q + 1, st.n) : '';
    timer.textContent = '';
    var q = st.question;
    if (st.phase === 'lobby') {
      this.renderPlayers();
    } else if (st.phase === 'open' || st.phase === 'closed') {
      if (st.phase === 'open' && q && q.remaining_ms) { this.timer(q, timer); }
      if (st.phase === 'closed') { timer.textContent = t.closed; }
      if (q) { this.renderScreenQuestion(q); }
    } else if (st.phase === 'revealed') {
      if (q) {
        var box = el('div', 'live-question live-question-small');
        this.renderPrompt(q, box);
        this.stage.appendChild(box);
        this.renderChart(q, st.reveal || {}, this.stage, this.choicesOf(q));
        if (st.reveal && st.reveal.solution && q.kind !== 'truefalse' && !(q.choices && q.choices.length)) {
          this.stage.appendChild(el('p', 'live-solution', t.correct_answer + ' ' + this.solution(st.reveal.solution)));
        }
      }
    } else if (st.phase === 'board' && st.board) {
      this.renderBoard(st.board.slice(0, 8));
    } else if (st.phase === 'ended') {
      if (st.board && st.board.length) { this.renderPodium(st.board); }
      this.stage.appendChild(el('h2', 'live-ended', t.ended));
    }
    this.renderCount(null, null, st.answered);
    this.fit();
  };

  Live.prototype.renderScreenQuestion = function (q) {
    var box = el('div', 'live-question');
    this.renderPrompt(q, box);
    this.renderOptions(q, box);
    this.stage.appendChild(box);
  };

  /* The podium: the first three on steps, first in the middle; the next
   * ones in a line below. */
  Live.prototype.renderPodium = function (board) {
    var pod = el('ol', 'live-podium'), order = [1, 0, 2];
    for (var i = 0; i < order.length; i++) {
      var s = board[order[i]];
      if (!s) { continue; }
      var li = el('li', 'live-step live-step-' + (order[i] + 1));
      li.appendChild(el('span', 'live-nick', s.nickname));
      var block = el('span', 'live-block');
      block.appendChild(el('span', 'live-rankn', s.rank));
      block.appendChild(el('span', 'live-pts', s.score));
      li.appendChild(block);
      pod.appendChild(li);
    }
    this.stage.appendChild(pod);
    if (board.length > 3) {
      var rest = el('ol', 'live-board live-board-rest');
      for (i = 3; i < Math.min(board.length, 8); i++) {
        var r = el('li');
        r.appendChild(el('span', 'live-rankn', board[i].rank));
        r.appendChild(el('span', 'live-nick', board[i].nickname));
        r.appendChild(el('span', 'live-pts', board[i].score));
        rest.appendChild(r);
      }
      this.stage.appendChild(rest);
    }
  };

  /* fit shrinks the stage's type until the phase fits the screen. */
  Live.prototype.fit = function () {
    var s = this.stage;
    if (!s || !s.firstChild) { return; }
    s.style.fontSize = '';
    var size = parseFloat(window.getComputedStyle(s).fontSize), min = 10;
    for (var i = 0; i < 40 && s.scrollHeight > s.clientHeight + 1 && size > min; i++) {
      size = Math.max(min, size * 0.93);
      s.style.fontSize = size + 'px';
    }
  };

  /* The lobby's players: as many of the latest as fit, and how many more. */
  Live.prototype.renderPlayers = function () {
    baseRenderPlayers.call(this);
    var ul = this.root.querySelector('.live-players');
    if (!ul || !this.state || this.state.phase !== 'lobby') { return; }
    var more = null, hidden = 0;
    while (ul.scrollHeight > ul.clientHeight + 1 && ul.children.length > 2) {
      ul.removeChild(ul.firstChild);
      hidden++;
      if (!more) {
        var last = ul.lastChild;
        if (last && last.className === 'meta') { hidden += parseInt(last.textContent.replace(/\D+/g, ''), 10) || 0; ul.removeChild(last); }
        more = el('li', 'meta');
        ul.appendChild(more);
      }
      more.textContent = fmt(this.t.more_players, hidden);
    }
  };
})();
