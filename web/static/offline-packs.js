/* stembox offline: the service worker (sw.js) and packs saved for reading
 * offline (the save control with its size, the offline page's list); apps'
 * results (window.stemboxRecordResult, for apps.js); and the start.
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
  var readMessages = page.readMessages, lang = page.lang, timeout = page.timeout, el = page.el,
    load = page.load, queue = page.queue, worker = page.worker, saveViews = page.saveViews,
    state = page.state, setNet = page.setNet, count = page.count, setLearner = page.setLearner,
    send = page.send, manifest = page.manifest, tick = page.tick, plan = page.plan,
    enhanceExercise = page.enhanceExercise, markSet = page.markSet;

  // --- the service worker and saved packs --------------------------------------

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
