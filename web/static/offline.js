/* stembox: the page's part of working offline (docs/offline.md).
 *
 * - shows plainly whether the box can be reached (the element #offline-conn
 *   of layout.html, with its strings in data-m spans);
 * - sends the answers of exercise forms as JSON to POST /api/v1/answers with
 *   an id made here (a ULID); when the box does not answer, keeps them on the
 *   device in IndexedDB, under the key of the signed-in learner, and sends
 *   them when it is back (the box applies each id once);
 * - registers the service worker (sw.js, secure contexts only: localhost or
 *   https) and lets students save whole packs for reading offline.
 * Without this script, or without a service worker, every page and form
 * still works as the box serves it.
 *
 * Written for Chrome 70: ES5 with Promise and fetch; no arrow functions,
 * no let/const, no template strings, no async/await, no optional chaining.
 */
(function (root) {
  'use strict';

  var lib = {};
  var ENCODING = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'; // Crockford's base32
  var lastTime = -1;
  var lastRandom = null;

  function randomBytes(n) {
    var out = [];
    var i;
    var c = root.crypto;
    if (c && c.getRandomValues) {
      var u = new Uint8Array(n);
      c.getRandomValues(u);
      for (i = 0; i < n; i++) {
        out.push(u[i]);
      }
    } else {
      for (i = 0; i < n; i++) {
        out.push(Math.floor(Math.random() * 256));
      }
    }
    return out;
  }

  function encodeTime(t) {
    var s = '';
    for (var i = 0; i < 10; i++) {
      var m = t % 32;
      s = ENCODING.charAt(m) + s;
      t = (t - m) / 32;
    }
    return s;
  }

  function encodeRandom(bytes) {
    var s = '';
    var acc = 0;
    var bits = 0;
    for (var i = 0; i < bytes.length; i++) {
      acc = (acc << 8) | bytes[i];
      bits += 8;
      while (bits >= 5) {
        bits -= 5;
        s += ENCODING.charAt((acc >> bits) & 31);
      }
      acc &= (1 << bits) - 1;
    }
    return s;
  }

  // increment adds one to an 80-bit number kept as 10 bytes.
  function increment(bytes) {
    var b = bytes.slice();
    for (var i = b.length - 1; i >= 0; i--) {
      if (b[i] < 255) {
        b[i]++;
        return b;
      }
      b[i] = 0;
    }
    return b;
  }

  // ulid returns a new ULID: 26 characters of Crockford's base32 holding 48
  // bits of milliseconds since 1970 and 80 random bits. Ids made in the same
  // millisecond (or after the clock went back) still increase.
  lib.ulid = function (now) {
    var t = typeof now === 'number' ? now : Date.now();
    var r;
    if (t <= lastTime && lastRandom) {
      t = lastTime;
      r = increment(lastRandom);
    } else {
      r = randomBytes(10);
    }
    lastTime = t;
    lastRandom = r;
    return encodeTime(t) + encodeRandom(r);
  };

  // fmt fills %d and %s in msg with the arguments after it, in order; %%
  // is a percent sign.
  lib.fmt = function (msg) {
    var args = Array.prototype.slice.call(arguments, 1);
    var i = 0;
    return String(msg).replace(/%([ds%])/g, function (all, verb) {
      if (verb === '%') {
        return '%';
      }
      return i < args.length ? String(args[i++]) : all;
    });
  };

  // size says n bytes the way ui (a manifest's strings) does, in lang.
  lib.size = function (n, ui, lang) {
    var units = [[1 << 30, 'gb'], [1 << 20, 'mb'], [1 << 10, 'kb']];
    for (var i = 0; i < units.length; i++) {
      if (n >= units[i][0] || units[i][1] === 'kb') {
        var v = n / units[i][0];
        var s = v >= 10 || units[i][1] === 'kb' ? String(Math.max(1, Math.round(v))) : v.toFixed(1);
        if (lang !== 'en') {
          s = s.replace('.', ',');
        }
        return lib.fmt(ui[units[i][1]] || '%s ' + units[i][1].toUpperCase(), s);
      }
    }
    return String(n);
  };

  // exercise parses the path of a question: /packs/P/sets/S/N.
  lib.exercise = function (path) {
    var m = /^\/packs\/([^/]+)\/sets\/([^/]+)\/(\d+)$/.exec(path);
    return m ? {pack: m[1], set: m[2], n: Number(m[3]), setURL: '/packs/' + m[1] + '/sets/' + m[2]} : null;
  };

  // verdictKind is how a verdict is headed: right, partly or wrong.
  lib.verdictKind = function (v) {
    if (v.correct) {
      return 'right';
    }
    return v.score > 0 ? 'partly' : 'wrong';
  };

  root.StemboxOffline = lib;

  var doc = root.document;
  var conn = doc && doc.getElementById ? doc.getElementById('offline-conn') : null;
  if (!conn || !root.Promise || !root.fetch) {
    return; // a test harness, or a browser too old: the pages work without us
  }

  // --- strings ------------------------------------------------------------

  var msgs = {};
  function readMessages(el) {
    var spans = el.querySelectorAll('[data-m]');
    for (var i = 0; i < spans.length; i++) {
      msgs[spans[i].getAttribute('data-m')] = spans[i].textContent;
    }
  }
  readMessages(doc);
  var lang = doc.documentElement.getAttribute('lang') || 'en';

  function msg(key) {
    return msgs[key] || '';
  }

  // --- helpers ------------------------------------------------------------

  function timeout(p, ms) {
    return new Promise(function (resolve, reject) {
      var t = setTimeout(function () {
        reject(new Error('timeout'));
      }, ms);
      p.then(function (v) {
        clearTimeout(t);
        resolve(v);
      }, function (err) {
        clearTimeout(t);
        reject(err);
      });
    });
  }

  function each(xs, f) {
    var p = Promise.resolve();
    xs.forEach(function (x) {
      p = p.then(function () {
        return f(x);
      });
    });
    return p;
  }

  function el(tag, attrs, text) {
    var e = doc.createElement(tag);
    for (var k in attrs) {
      if (Object.prototype.hasOwnProperty.call(attrs, k)) {
        e.setAttribute(k, attrs[k]);
      }
    }
    if (text) {
      e.textContent = text;
    }
    return e;
  }

  function store(key, value) {
    try {
      if (value === null) {
        root.localStorage.removeItem(key);
      } else {
        root.localStorage.setItem(key, value);
      }
    } catch (e) {
      // private mode or full: nothing to keep
    }
  }

  function load(key) {
    try {
      return root.localStorage.getItem(key);
    } catch (e) {
      return null;
    }
  }

  // --- the queue of answers -----------------------------------------------

  // queue keeps answers in IndexedDB (store "answers", by id, indexed by
  // learner), or in localStorage where IndexedDB cannot be opened.
  var queue = (function () {
    var dbp = null;
    function open() {
      if (!dbp) {
        dbp = new Promise(function (resolve, reject) {
          if (!root.indexedDB) {
            reject(new Error('no IndexedDB'));
            return;
          }
          var req = root.indexedDB.open('stembox-offline', 1);
          req.onupgradeneeded = function () {
            var os = req.result.createObjectStore('answers', {keyPath: 'id'});
            os.createIndex('learner', 'learner');
          };
          req.onsuccess = function () {
            resolve(req.result);
          };
          req.onerror = function () {
            reject(req.error);
          };
        });
      }
      return dbp;
    }
    function run(mode, f) {
      return open().then(function (db) {
        return new Promise(function (resolve, reject) {
          var tx = db.transaction('answers', mode);
          var req = f(tx.objectStore('answers'));
          tx.oncomplete = function () {
            resolve(req ? req.result : undefined);
          };
          tx.onerror = tx.onabort = function () {
            reject(tx.error);
          };
        });
      });
    }
    function fallback() {
      var s = load('stembox.queue');
      return s ? JSON.parse(s) : [];
    }
    return {
      put: function (e) {
        return run('readwrite', function (os) {
          return os.put(e);
        }).catch(function () {
          var all = fallback().filter(function (x) {
            return x.id !== e.id;
          });
          all.push(e);
          store('stembox.queue', JSON.stringify(all));
        });
      },
      remove: function (id) {
        return run('readwrite', function (os) {
          return os.delete(id);
        }).catch(function () {
          store('stembox.queue', JSON.stringify(fallback().filter(function (x) {
            return x.id !== id;
          })));
        });
      },
      list: function (learner) {
        return run('readonly', function (os) {
          return os.index('learner').getAll(learner);
        }).catch(function () {
          return fallback().filter(function (x) {
            return x.learner === learner;
          });
        }).then(function (xs) {
          return (xs || []).sort(function (a, b) {
            return a.id < b.id ? -1 : 1;
          });
        });
      }
    };
  }());

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
            showVerdict(e);
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
            showRefused(e);
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

  // --- the service worker and saved packs --------------------------------------

  var worker = root.navigator.serviceWorker;

  function ask(msgObj) {
    var wait = msgObj.type === 'save' ? 10 * 60000 : 20000;
    return timeout(new Promise(function (resolve, reject) {
      var c = worker && worker.controller;
      if (!c) {
        reject(new Error('no service worker'));
        return;
      }
      var ch = new MessageChannel();
      ch.port1.onmessage = function (ev) {
        if (ev.data && ev.data.error) {
          reject(new Error(ev.data.error));
        } else {
          resolve(ev.data);
        }
      };
      c.postMessage(msgObj, [ch.port2]);
    }), wait);
  }

  function estimate() {
    var s = root.navigator.storage;
    if (!s || !s.estimate) {
      return Promise.resolve(null);
    }
    return s.estimate().catch(function () {
      return null;
    });
  }

  var saveViews = {}; // pack id -> function that redraws its control

  // saveControl draws, in box, the control that saves a pack for reading
  // offline, with its size and how much this device keeps.
  function saveControl(box, pack, withTitle) {
    var last = null; // the last progress of a save under way
    function draw(progress, problem) {
      return Promise.all([manifest(pack, true), ask({type: 'status'}), estimate()]).then(function (r) {
        var m = r[0];
        var st = null;
        r[1].packs.forEach(function (p) {
          if (p.pack === pack) {
            st = p;
          }
        });
        if (progress) {
          last = progress;
        } else if (st && st.saving && last) {
          progress = last;
        }
        box.textContent = '';
        box.hidden = false;
        box.setAttribute('lang', lang);
        var p = el('p');
        if (withTitle) {
          p.appendChild(el('strong', {lang: m.title_lang || lang}, m.title));
          p.appendChild(doc.createTextNode(' '));
        }
        var btn;
        if (progress) {
          p.appendChild(doc.createTextNode(lib.fmt(m.ui.saving, progress.done, progress.total)));
        } else if (st && st.saved && !st.saving) {
          p.appendChild(doc.createTextNode(lib.fmt(m.ui.saved, lib.size(st.bytes, m.ui, lang))));
          btn = el('button', {'class': 'button secondary', type: 'button'}, m.ui.remove);
          btn.addEventListener('click', function () {
            ask({type: 'remove', pack: pack}).then(function () {
              return draw();
            });
          });
        } else if (state.net !== 'offline') {
          p.appendChild(doc.createTextNode(lib.fmt(m.ui.save_intro, lib.size(m.bytes, m.ui, lang))));
          btn = el('button', {'class': 'button secondary', type: 'button'}, m.ui.save);
          btn.addEventListener('click', function () {
            estimate().then(function (est) {
              if (est && est.quota && est.quota - est.usage < m.bytes) {
                return draw(null, lib.fmt(m.ui.no_space, lib.size(m.bytes, m.ui, lang), lib.size(est.quota - est.usage, m.ui, lang)));
              }
              if (root.navigator.storage && root.navigator.storage.persist) {
                root.navigator.storage.persist().catch(function () {
                  return false;
                });
              }
              draw({done: 0, total: m.pages.length + m.files.length});
              return ask({type: 'save', pack: pack}).then(function () {
                return draw();
              }, function () {
                return draw(null, m.ui.save_failed);
              });
            });
          });
        }
        box.appendChild(p);
        if (problem) {
          box.appendChild(el('p', {'class': 'error', role: 'alert'}, problem));
        }
        if (btn) {
          box.appendChild(el('p')).appendChild(btn);
        }
        if (r[2] && r[2].quota) {
          box.appendChild(el('p', {'class': 'meta offline-storage'},
            lib.fmt(m.ui.storage, lib.size(r[2].usage || 0, m.ui, lang), lib.size(r[2].quota, m.ui, lang))));
        }
      }).catch(function () {
        return null;
      });
    }
    saveViews[pack] = draw;
    return draw();
  }

  function saveControls() {
    var boxes = doc.querySelectorAll('[data-offline-save]');
    for (var i = 0; i < boxes.length; i++) {
      saveControl(boxes[i], boxes[i].getAttribute('data-offline-save'), false);
    }
    // A student's own page: one control for each pack of their work.
    var work = doc.querySelector('ol.work');
    if (work && root.location.pathname === '/me') {
      var seen = {};
      var links = work.querySelectorAll('a[href^="/packs/"]');
      for (var j = 0; j < links.length; j++) {
        var pack = links[j].getAttribute('href').split('/')[2];
        if (!seen[pack]) {
          seen[pack] = true;
          var box = el('div', {'class': 'offline-save', 'data-offline-pack': pack});
          work.parentNode.insertBefore(box, work.nextSibling);
          saveControl(box, pack, true);
        }
      }
    }
  }

  // offlineList fills the offline page with what this device keeps.
  function offlineList() {
    var sec = doc.querySelector('[data-offline-list]');
    if (!sec) {
      return;
    }
    ask({type: 'status'}).then(function (st) {
      var list = sec.querySelector('.offline-packs');
      st.packs.forEach(function (p) {
        if (!p.lessons.length) {
          return;
        }
        var li = el('li');
        li.appendChild(el('strong', {lang: p.titleLang || p.lang}, p.title));
        var ul = el('ul');
        p.lessons.forEach(function (l) {
          ul.appendChild(el('li')).appendChild(el('a', {href: l.url, lang: p.titleLang || p.lang}, l.title));
        });
        li.appendChild(ul);
        list.appendChild(li);
      });
      sec.querySelector('.offline-none').hidden = !!list.firstChild;
      sec.hidden = false;
    }).catch(function () {
      return null;
    });
  }

  function registerWorker() {
    if (!worker || !root.isSecureContext) {
      return; // http on a LAN address: the box's pages work without it
    }
    worker.register('/sw.js', {scope: '/'}).catch(function () {
      return null;
    });
    // A page that opened while the worker was still installing is not
    // controlled by it; ask the worker to take it over.
    worker.ready.then(function (reg) {
      if (!worker.controller && reg.active) {
        reg.active.postMessage({type: 'claim'});
      }
    });
    worker.addEventListener('message', function (ev) {
      var d = ev.data || {};
      var draw = saveViews[d.pack];
      if (d.type === 'progress' && draw) {
        draw({done: d.done, total: d.total});
      } else if ((d.type === 'saved' || d.type === 'save-failed') && draw) {
        draw();
      }
    });
    var told = false;
    function opened() {
      if (told || !worker.controller) {
        return;
      }
      told = true;
      var res = [];
      if (root.performance && root.performance.getEntriesByType) {
        res = root.performance.getEntriesByType('resource').map(function (r) {
          return r.name;
        });
      }
      ask({type: 'opened', path: root.location.pathname, search: root.location.search, lang: lang, resources: res})
        .catch(function () {
          return null;
        });
      saveControls();
      offlineList();
    }
    worker.addEventListener('controllerchange', opened);
    if (doc.readyState === 'complete') {
      opened();
    } else {
      root.addEventListener('load', opened);
    }
  }

  // recordResult sends an app's result r ({pack, app, completed, score, max,
  // summary}, checked by apps.js) with an id made here, or keeps it with the
  // answers while the box is away. It resolves to 'sent' or 'kept', and
  // rejects when the box refuses it.
  root.stemboxRecordResult = function (r) {
    var e = {
      id: lib.ulid(), learner: state.learner, kind: 'app', pack: r.pack, app: r.app, completed: r.completed,
      score: r.score, max: r.max, summary: r.summary, created: Date.now(), state: 'waiting'
    };
    function keep() {
      return queue.put(e).then(count).then(function () {
        plan();
        return 'kept';
      });
    }
    if (state.net === 'offline') {
      return keep();
    }
    return send(e).then(function () {
      return 'sent';
    }, function (err) {
      return err.refused ? Promise.reject(err) : keep();
    });
  };

  // --- start ----------------------------------------------------------------------

  readMessages(conn);
  var given = conn.getAttribute('data-learner');
  var start = given ? setLearner(given, true) : setLearner(load('stembox.learner') || '', false);
  start.then(function () {
    enhanceExercise();
    markSet();
    return tick();
  });
  root.addEventListener('online', tick);
  root.addEventListener('offline', function () {
    setNet('offline');
    plan();
  });
  doc.addEventListener('visibilitychange', function () {
    if (doc.visibilityState === 'visible' && (state.net === 'offline' || state.waiting > 0)) {
      tick();
    }
  });
  registerWorker();
}(this));
