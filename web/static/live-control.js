/* stembox live sessions, 4 of 5: the teacher's control page (after
 * live-socket.js and live-view.js): the commands that lead the lesson, and
 * renaming and removing players. */
(function () {
  'use strict';
  var K = window.stemboxLiveKit, Live = K.Live, el = K.el, clear = K.clear, fmt = K.fmt;

  Live.prototype.renderControls = function () {
    var bar = this.root.querySelector('.live-controls'), st = this.state, self = this, t = this.t;
    if (!bar || !st) { return; }
    clear(bar);
    var cmds = this.commands();
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

  /* playerButtons are the teacher's buttons beside a player's name. */
  Live.prototype.playerButtons = function (li, p) {
    var self = this, t = this.t;
    var rn = el('button', 'link', t.rename);
    rn.type = 'button';
    rn.addEventListener('click', function () { self.send({ type: 'rename', player: p.id }); });
    var kick = el('button', 'link', t.kick);
    kick.type = 'button';
    kick.addEventListener('click', function () {
      if (window.confirm(fmt(t.kick_confirm, p.nickname))) { self.send({ type: 'kick', player: p.id }); }
    });
    var kickAll = el('button', 'link', t.kick_addr);
    kickAll.type = 'button';
    kickAll.addEventListener('click', function () {
      if (window.confirm(fmt(t.kick_addr_confirm, p.nickname))) { self.send({ type: 'kick', player: p.id, same_address: true }); }
    });
    li.appendChild(rn);
    li.appendChild(kick);
    li.appendChild(kickAll);
  };
})();
