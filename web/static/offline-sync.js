/* stembox offline: talking to the box. Whether it can be reached (the
 * connection line of #offline-conn), whose answers may be sent, sending
 * them and apps' results one at a time, and the manifests of packs.
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
  var lang = page.lang, msg = page.msg, timeout = page.timeout, each = page.each, el = page.el,
    store = page.store, load = page.load, queue = page.queue;

  var worker = root.navigator.serviceWorker;
  var saveViews = {}; // pack id -> function that redraws its control (offline-packs.js)

  // --- state and what the page shows -----------------------------------------

  var state = {
    net: 'unknown', // online, offline
    learner: '',
    verified: false, // the box said who is signed in, in this page's life
    waiting: 0,
    sending: 0,
    sent: 0,
    sentSet: '',
    refused: 0
  };

  var lines = {
    state: conn.querySelector('.conn-state'),
    queue: conn.querySelector('.conn-queue'),
    done: conn.querySelector('.conn-done')
  };

  function render() {
    conn.className = 'conn ' + state.net;
    lines.state.textContent = state.net === 'online' ? msg('online') : state.net === 'offline' ? msg('offline') : '';
    var q = '';
    if (state.sending > 0) {
      q = lib.fmt(msg('sending'), state.sending);
    } else if (state.waiting > 0) {
      q = lib.fmt(msg('waiting'), state.waiting);
    }
    lines.queue.textContent = q;
    lines.queue.hidden = !q;
    lines.done.textContent = '';
    if (state.sent > 0) {
      lines.done.appendChild(doc.createTextNode(lib.fmt(msg('sent'), state.sent) + ' '));
      if (state.sentSet) {
        lines.done.appendChild(el('a', {href: state.sentSet}, msg('results')));
      }
    }
    if (state.refused > 0) {
      lines.done.appendChild(doc.createTextNode(' ' + lib.fmt(msg('refused'), state.refused)));
    }
    lines.done.hidden = !lines.done.firstChild;
    var notes = doc.querySelectorAll('.offline-waiting');
    for (var i = 0; i < notes.length; i++) {
      notes[i].textContent = lib.fmt(msg('waiting'), state.waiting);
    }
  }

  function setNet(net) {
    if (state.net !== net) {
      state.net = net;
      render();
      for (var pack in saveViews) {
        if (Object.prototype.hasOwnProperty.call(saveViews, pack)) {
          saveViews[pack](); // no offer to save while the box is away
        }
      }
    }
  }

  function count() {
    return queue.list(state.learner).then(function (xs) {
      state.waiting = xs.filter(function (x) {
        return x.state === 'waiting';
      }).length;
      render();
      return xs;
    });
  }

  // setLearner switches the page to a learner's queue; verified says the
  // box named them just now (a page made for them, or /offline/me).
  function setLearner(key, verified) {
    var changed = key !== state.learner;
    state.learner = key;
    if (verified) {
      state.verified = true;
      store('stembox.learner', key);
    }
    return changed ? count() : Promise.resolve();
  }

  // --- talking to the box -----------------------------------------------------

  // probe asks the box who is signed in: it says whether the box can be
  // reached, and whose answers may be sent now.
  function probe() {
    return timeout(fetch('/offline/me', {credentials: 'same-origin', cache: 'no-store'}), 5000).then(function (res) {
      if (!res.ok) {
        throw new Error('status ' + res.status);
      }
      return res.json();
    }).then(function (v) {
      setNet('online');
      return setLearner(v.learner || '', true).then(function () {
        return true;
      });
    }, function () {
      setNet('offline');
      return false;
    });
  }

  // send posts one answer. It resolves to the verdict, or rejects with
  // err.refused set when the box will never take it, err.offline when it
  // could not be reached.
  function send(e) {
    var body = JSON.stringify({id: e.id, pack: e.pack, set: e.set, item: e.item, choices: e.choices, text: e.text});
    var api = '/api/v1/answers';
    if (e.kind === 'app') { // an app's result (apps.js), queued the same way
      api = '/api/v1/app-results';
      body = JSON.stringify({id: e.id, pack: e.pack, app: e.app, completed: e.completed, score: e.score, max: e.max, summary: e.summary});
    }
    var now = Date.now(); // the device's time, and how long ago it was given (docs/offline.md)
    return timeout(fetch(api, {
      method: 'POST', credentials: 'same-origin', cache: 'no-store',
      headers: {'Content-Type': 'application/json', 'X-Device-Time': String(now),
        'X-Answer-Age': String(Math.max(0, now - (e.created || now)))}, body: body
    }), 10000).then(function (res) {
      return res.json().then(function (v) {
        return {status: res.status, body: v};
      }, function () {
        return {status: res.status, body: {}};
      });
    }, function (err) {
      setNet('offline');
      err.offline = true;
      throw err;
    }).then(function (r) {
      if (r.status === 200) {
        setNet('online');
        return r.body;
      }
      var err = new Error(r.body && r.body.error || 'status ' + r.status);
      err.refused = r.status === 400 || r.status === 404 || r.status === 409 || r.status === 413 || r.status === 422;
      throw err;
    });
  }

  var manifests = {};

  // kept returns the manifest the service worker keeps for a pack (it
  // checks it with the box whenever a page of the pack opens), or null.
  function kept(pack) {
    if (!root.caches || !worker || !worker.controller) {
      return Promise.resolve(null);
    }
    return root.caches.match('/offline/meta/packs/' + pack).then(function (r) {
      return r ? r.json() : null;
    }).then(function (st) {
      return st && st.manifest || null;
    }, function () {
      return null;
    });
  }

  // manifest returns a pack's manifest: from the box, else from what the
  // service worker keeps, else from this page's last copy. With keptFirst,
  // the service worker's copy is good enough (sizes and strings).
  function manifest(pack, keptFirst) {
    if (manifests[pack]) {
      return Promise.resolve(manifests[pack]);
    }
    var key = 'stembox.manifest.' + pack;
    function fromBox() {
      return timeout(fetch('/offline/packs/' + pack + '/manifest', {credentials: 'same-origin'}), 5000).then(function (res) {
        if (!res.ok) {
          throw new Error('status ' + res.status);
        }
        return res.json();
      }).then(function (m) {
        store(key, JSON.stringify(m));
        return m;
      });
    }
    var first = keptFirst ? kept(pack).then(function (m) {
      return m && m.lang === lang ? m : fromBox();
    }) : fromBox();
    return first.catch(function () {
      return kept(pack).then(function (m) {
        if (m) {
          return m;
        }
        var s = load(key);
        if (s) {
          return JSON.parse(s);
        }
        throw new Error('no manifest of ' + pack);
      });
    }).then(function (m) {
      manifests[pack] = m;
      return m;
    });
  }

  function itemOf(e) {
    if (e.item || e.kind === 'app') {
      return Promise.resolve(e.item || e.app);
    }
    if (e.item) {
      return Promise.resolve(e.item);
    }
    return manifest(e.pack).then(function (m) {
      for (var i = 0; i < m.sets.length; i++) {
        if (m.sets[i].id === e.set && e.n >= 1 && e.n <= m.sets[i].items.length) {
          return m.sets[i].items[e.n - 1];
        }
      }
      return '';
    });
  }

  var flushing = false;

  // flush sends the waiting answers of the learner the box named last, one
  // at a time, oldest first.
  function flush() {
    if (flushing || state.net !== 'online' || !state.verified) {
      return Promise.resolve();
    }
    flushing = true;
    return queue.list(state.learner).then(function (xs) {
      var todo = xs.filter(function (x) {
        return x.state === 'waiting';
      });
      state.sending = todo.length;
      render();
      return each(todo, function (e) {
        return itemOf(e).then(function (item) {
          if (!item) {
            var err = new Error('no such question');
            err.refused = true;
            throw err;
          }
          e.item = item;
          return send(e);
        }).then(function (v) {
          e.state = 'sent';
          e.verdict = {correct: v.correct, score: v.score, feedback: v.feedback || []};
          e.sentAt = Date.now();
          state.sent++;
          if (e.kind !== 'app') {
            state.sentSet = '/packs/' + e.pack + '/sets/' + e.set;
          }
          return queue.put(e).then(function () {
            state.sending--;
            render();
            page.showVerdict(e);
          });
        }, function (err) {
          if (!err.refused) {
            throw err;
          }
          e.state = 'refused';
          e.error = err.message;
          state.refused++;
          return queue.put(e).then(function () {
            state.sending--;
            render();
            page.showRefused(e);
          });
        });
      });
    }).catch(function () {
      return null; // the rest waits for the next try
    }).then(function () {
      flushing = false;
      state.sending = 0;
      return count();
    }).then(prune);
  }

  // prune forgets answers the box took more than a day ago, and refused
  // ones after a week: the box has them, or never will.
  function prune(xs) {
    var now = Date.now();
    return each((xs || []).filter(function (x) {
      return (x.state === 'sent' && now - x.sentAt > 864e5) || (x.state === 'refused' && now - x.created > 7 * 864e5);
    }), function (x) {
      return queue.remove(x.id);
    });
  }

  var timer = null;
  var backoff = 2000;

  // tick checks the box, sends what waits, and plans the next check while
  // the box is away or answers wait.
  function tick() {
    clearTimeout(timer);
    timer = null;
    return probe().then(function (ok) {
      if (ok) {
        backoff = 2000;
        return flush();
      }
      backoff = Math.min(backoff * 2, 10000);
      return null;
    }).then(plan);
  }

  function plan() {
    clearTimeout(timer);
    if (state.net === 'offline' || state.waiting > 0) {
      timer = setTimeout(tick, state.net === 'offline' ? backoff : 5000);
    }
  }

  page.state = state;
  page.count = count;
  page.send = send;
  page.manifests = manifests;
  page.manifest = manifest;
  page.itemOf = itemOf;
  page.plan = plan;
  page.worker = worker;
  page.saveViews = saveViews;
  page.setNet = setNet;
  page.setLearner = setLearner;
  page.tick = tick;
}(this));
