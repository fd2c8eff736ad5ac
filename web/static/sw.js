/* stembox service worker (docs/offline.md).
 *
 * The box serves this file at /sw.js, after a first line that sets
 * self.STEMBOX_SW = {version, shell, offline, langs}. It keeps:
 *   - the app shell (stylesheets, scripts, icons, the offline page), in a
 *     cache named after the version of the static files;
 *   - the pages and media of each pack a student opened, or saved for
 *     offline reading, in one cache per pack whose name the box gives in the
 *     pack's manifest (/offline/packs/ID/manifest): it names the installed
 *     pack version, the language and the static files, so a new version of
 *     any of them replaces the cached copy.
 * Pages are fetched from the network first and shown from the cache only
 * when the box does not answer. Only pages made for nobody in particular
 * are kept: a page with a student's name in it is fetched again without
 * cookies, so that two students sharing a device never see each other's.
 *
 * Written for Chrome 70: ES5 with Promise, fetch and the Cache API; no
 * arrow functions, no let/const, no async/await.
 */
(function () {
  'use strict';

  var CFG = self.STEMBOX_SW || {version: 'dev', shell: [], offline: '/offline', langs: ['en']};
  var SHELL = 'stembox-shell-' + CFG.version;
  var META = 'stembox-meta';
  var PACKS = 'stembox-pack-';
  var META_PACK = '/offline/meta/packs/';
  var META_LANG = '/offline/meta/lang';
  var NET_TIMEOUT = 6000; // ms before a page is shown from the cache instead
  var MAX_FILE = 25 * 1024 * 1024; // larger media are not kept unless a pack is saved
  var RECHECK = 10000; // ms between checks of a pack's version

  var packs = null; // pack id -> state, as kept in META
  var busy = {}; // pack id -> promise of the version check under way
  var saving = {}; // pack id -> promise of the save under way

  function offlineURL(lang) {
    return CFG.offline + '?lang=' + encodeURIComponent(lang);
  }

  self.addEventListener('install', function (e) {
    var urls = CFG.shell.slice();
    for (var i = 0; i < CFG.langs.length; i++) {
      urls.push(offlineURL(CFG.langs[i]));
    }
    e.waitUntil(caches.open(SHELL).then(function (c) {
      return c.addAll(urls);
    }).then(function () {
      return self.skipWaiting();
    }));
  });

  self.addEventListener('activate', function (e) {
    // Drop the shell of older versions, and packs cached under them (their
    // pages link to stylesheets that are gone); saved packs are fetched
    // again at the next check.
    var suffix = '@' + CFG.version;
    e.waitUntil(caches.keys().then(function (keys) {
      return Promise.all(keys.map(function (k) {
        if (k.indexOf('stembox-shell-') === 0 && k !== SHELL) {
          return caches.delete(k);
        }
        if (k.indexOf(PACKS) === 0 && k.slice(-suffix.length) !== suffix) {
          return caches.delete(k);
        }
        return null;
      }));
    }).then(function () {
      return self.clients.claim();
    }));
  });

  // --- state of packs, kept in the META cache ---------------------------

  function readJSON(cacheName, key) {
    return caches.open(cacheName).then(function (c) {
      return c.match(key);
    }).then(function (r) {
      return r ? r.json() : null;
    });
  }

  function writeJSON(cacheName, key, v) {
    return caches.open(cacheName).then(function (c) {
      return c.put(key, new Response(JSON.stringify(v), {headers: {'Content-Type': 'application/json'}}));
    });
  }

  function loadPacks() {
    if (packs) {
      return Promise.resolve(packs);
    }
    return caches.open(META).then(function (c) {
      return c.keys().then(function (reqs) {
        return Promise.all(reqs.map(function (req) {
          return c.match(req).then(function (r) {
            return r.json();
          });
        }));
      }).then(function (vals) {
        var out = {};
        for (var i = 0; i < vals.length; i++) {
          if (vals[i] && vals[i].pack) {
            out[vals[i].pack] = vals[i];
          }
        }
        packs = out;
        return out;
      });
    });
  }

  function storePack(st) {
    return loadPacks().then(function (all) {
      all[st.pack] = st;
      return writeJSON(META, META_PACK + st.pack, st);
    }).then(function () {
      return st;
    });
  }

  function forgetPack(pack) {
    return loadPacks().then(function (all) {
      var st = all[pack];
      delete all[pack];
      return Promise.all([
        caches.open(META).then(function (c) {
          return c.delete(META_PACK + pack);
        }),
        st ? caches.delete(st.cache) : null
      ]);
    });
  }

  // packOf returns the pack id of a path of the box, or "".
  function packOf(path) {
    var m = /^\/(?:packs|files)\/([a-z0-9][a-z0-9-]*)(?:\/|$)/.exec(path);
    return m ? m[1] : '';
  }

  // --- fetching ---------------------------------------------------------

  // timeout rejects after ms unless p settles first.
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

  // personal reports whether a page was made for someone: a signed-in
  // page carries a form token and its learner's key.
  function personal(html) {
    return /name="csrf"/.test(html) || /data-learner="[^"]/.test(html);
  }

  // fetchAnonymous fetches a page as a visitor with no cookies who reads
  // lang, and keeps it in cache c.
  function fetchAnonymous(c, path, lang) {
    return fetch(path, {credentials: 'omit', cache: 'no-store', headers: {'Accept-Language': lang}}).then(function (res) {
      if (!res.ok) {
        throw new Error(path + ': ' + res.status);
      }
      return res.text();
    }).then(function (html) {
      if (personal(html)) {
        throw new Error(path + ': made for someone');
      }
      return c.put(path, htmlResponse(html)).then(function () {
        return html.length;
      });
    });
  }

  function htmlResponse(html) {
    return new Response(html, {headers: {'Content-Type': 'text/html; charset=utf-8'}});
  }

  // keepPage keeps path of pack state st: res (the network's answer to a
  // navigation, if any) when it was made for nobody, else a copy fetched
  // without cookies unless one is kept already.
  function keepPage(st, path, res) {
    return caches.open(st.cache).then(function (c) {
      var fromNet = res ? res.text() : Promise.resolve('');
      return fromNet.then(function (html) {
        if (html && !personal(html)) {
          return c.put(path, htmlResponse(html));
        }
        return c.match(path).then(function (hit) {
          return hit ? null : fetchAnonymous(c, path, st.lang);
        });
      });
    });
  }

  // keepFile keeps a file of a pack version in its cache.
  function keepFile(c, url, res, any) {
    var size = Number(res.headers.get('Content-Length') || 0);
    if (res.status !== 200 || (!any && size > MAX_FILE)) {
      return Promise.resolve(0);
    }
    return c.put(url, res).then(function () {
      return size;
    });
  }

  function missing(c, urls) {
    return Promise.all(urls.map(function (u) {
      return c.match(u, {ignoreVary: true}).then(function (hit) {
        return hit ? null : u;
      });
    })).then(function (us) {
      return us.filter(function (u) {
        return u;
      });
    });
  }

  // each runs f on every element of xs, one after the other.
  function each(xs, f) {
    var p = Promise.resolve();
    xs.forEach(function (x, i) {
      p = p.then(function () {
        return f(x, i);
      });
    });
    return p;
  }

  // --- versions of packs ------------------------------------------------

  // current returns the state of a pack after checking its version with the
  // box (at most every RECHECK ms unless force), moving its cached copy to
  // a new version when there is one. Offline, it returns what is known.
  function current(pack, force) {
    if (busy[pack]) {
      return busy[pack];
    }
    var p = loadPacks().then(function (all) {
      var st = all[pack];
      if (st && !force && Date.now() - st.checked < RECHECK) {
        return st;
      }
      return fetch('/offline/packs/' + pack + '/manifest', {credentials: 'same-origin'}).then(function (res) {
        if (res.status === 404) {
          return forgetPack(pack).then(function () {
            return null;
          });
        }
        if (!res.ok) {
          throw new Error('manifest: ' + res.status);
        }
        return res.json().then(function (m) {
          if (st && st.cache === m.cache) {
            st.manifest = m;
            st.checked = Date.now();
            return storePack(st);
          }
          return move(st, m);
        });
      }, function () {
        return st || null;
      });
    });
    busy[pack] = p;
    function done() {
      if (busy[pack] === p) {
        delete busy[pack];
      }
    }
    p.then(done, done);
    return p;
  }

  // move fills the cache of a new pack version (or language) with what the
  // old one held, or with everything if the pack is saved, then drops the
  // old one. Until that is done, the old copy is what is shown offline.
  function move(old, m) {
    var st = {pack: m.pack, cache: m.cache, name: m.name, lang: m.lang, title: m.title,
      saved: !!(old && old.saved), bytes: 0, checked: Date.now(), manifest: m};
    var fill;
    if (st.saved) {
      fill = saveAll(st);
    } else if (old) {
      fill = refill(old, st);
    } else {
      fill = Promise.resolve();
    }
    return fill.then(function () {
      return storePack(st);
    }).then(function () {
      return dropOthers(st);
    }).then(function () {
      return st;
    });
  }

  // dropOthers deletes every cache of st's pack but its own.
  function dropOthers(st) {
    var prefix = PACKS + st.pack + '@';
    return caches.keys().then(function (keys) {
      return Promise.all(keys.map(function (k) {
        return k.indexOf(prefix) === 0 && k !== st.cache ? caches.delete(k) : null;
      }));
    });
  }

  // refill fetches anew the pages and files an old cache held that the new
  // version still has.
  function refill(old, st) {
    var m = st.manifest;
    var oldFiles = '/files/' + old.pack + '/' + old.name + '/';
    var newFiles = '/files/' + st.pack + '/' + st.name + '/';
    return caches.open(old.cache).then(function (oc) {
      return oc.keys();
    }).then(function (reqs) {
      var pages = [];
      var files = [];
      reqs.forEach(function (req) {
        var path = new URL(req.url).pathname;
        if (path.indexOf(oldFiles) === 0) {
          var nu = newFiles + path.slice(oldFiles.length);
          if (m.files.indexOf(nu) >= 0) {
            files.push(nu);
          }
        } else if (m.pages.indexOf(path) >= 0) {
          pages.push(path);
        }
      });
      return fetchInto(st, pages, files, null);
    }, function () {
      return null;
    });
  }

  // fetchInto fetches the pages and files missing from st's cache, telling
  // progress(done, total) as it goes; it resolves to the bytes fetched.
  function fetchInto(st, pages, files, progress) {
    var bytes = 0;
    return caches.open(st.cache).then(function (c) {
      return Promise.all([missing(c, pages), missing(c, files)]).then(function (todo) {
        var total = todo[0].length + todo[1].length;
        var n = 0;
        function step() {
          n++;
          if (progress) {
            progress(n, total);
          }
        }
        return each(todo[0], function (path) {
          return fetchAnonymous(c, path, st.lang).then(function (size) {
            bytes += size;
            step();
          });
        }).then(function () {
          return each(todo[1], function (url) {
            return fetch(url, {credentials: 'same-origin'}).then(function (res) {
              if (!res.ok) {
                throw new Error(url + ': ' + res.status);
              }
              return keepFile(c, url, res, true);
            }).then(function (size) {
              bytes += size;
              step();
            });
          });
        });
      });
    }).then(function () {
      return bytes;
    });
  }

  function tell(msg) {
    return self.clients.matchAll({includeUncontrolled: true}).then(function (cs) {
      cs.forEach(function (c) {
        c.postMessage(msg);
      });
    });
  }

  // saveAll fetches every page and file of st's pack version.
  function saveAll(st) {
    var m = st.manifest;
    return fetchInto(st, m.pages, m.files, function (done, total) {
      tell({type: 'progress', pack: st.pack, done: done, total: total});
    }).then(function () {
      return sizeOf(st.cache);
    }).then(function (bytes) {
      st.bytes = bytes;
      return st;
    });
  }

  // sizeOf adds up what a cache holds (pages are small; media have a length).
  function sizeOf(cacheName) {
    return caches.open(cacheName).then(function (c) {
      return c.keys().then(function (reqs) {
        return Promise.all(reqs.map(function (req) {
          return c.match(req).then(function (r) {
            var n = Number(r.headers.get('Content-Length') || 0);
            if (n > 0) {
              return n;
            }
            return r.blob().then(function (b) {
              return b.size;
            });
          });
        }));
      });
    }).then(function (sizes) {
      var sum = 0;
      sizes.forEach(function (n) {
        sum += n;
      });
      return sum;
    });
  }

  // save keeps a whole pack for offline reading, on request.
  function save(pack) {
    if (saving[pack]) {
      return saving[pack];
    }
    var p = current(pack, true).then(function (st) {
      if (!st) {
        throw new Error('no such pack');
      }
      st.saving = true;
      return saveAll(st).then(function () {
        st.saved = true;
        st.saving = false;
        return storePack(st);
      }, function (err) {
        st.saving = false;
        throw err;
      });
    }).then(function (st) {
      tell({type: 'saved', pack: pack, bytes: st.bytes});
      return {ok: true, bytes: st.bytes};
    }, function (err) {
      tell({type: 'save-failed', pack: pack, error: String(err && err.message || err)});
      throw err;
    });
    saving[pack] = p;
    function done() {
      delete saving[pack];
    }
    p.then(done, done);
    return p;
  }

  // near keeps what a student will want next, offline, after opening path:
  // the pack's page, and the exercise set of a lesson (its page and
  // questions) or of a question.
  function near(st, path) {
    var m = st.manifest;
    if (!m) {
      return Promise.resolve();
    }
    var want = ['/packs/' + st.pack];
    var setID = '';
    var files = []; // the pages of the apps of a lesson, or of an app's page
    var lm = /^\/packs\/[^/]+\/lessons\/([^/]+)$/.exec(path);
    if (lm) {
      m.lessons.forEach(function (l) {
        if (l.id === lm[1] && l.set) {
          setID = l.set;
        }
        if (l.id === lm[1]) {
          files = l.apps || [];
        }
      });
    }
    var am = /^\/packs\/[^/]+\/apps\/([^/]+)$/.exec(path);
    (m.apps || []).forEach(function (a) {
      if (am && a.id === am[1]) {
        files = [a.entry];
      }
    });
    var sm = /^\/packs\/[^/]+\/sets\/([^/]+)/.exec(path);
    if (sm) {
      setID = sm[1];
    }
    m.sets.forEach(function (s) {
      if (s.id === setID) {
        want = want.concat(s.pages);
      }
    });
    return fetchInto(st, want, files, null);
  }

  // opened is called by a page once it has loaded: it keeps the page (if
  // it belongs to a pack), the resources it used, and what comes next.
  function opened(d) {
    var jobs = [];
    if (d.lang) {
      jobs.push(writeJSON(META, META_LANG, {lang: d.lang}));
    }
    (d.resources || []).forEach(function (u) {
      var url = new URL(u, self.location.href);
      if (url.origin === self.location.origin && url.pathname.indexOf('/static/' + CFG.version + '/') === 0) {
        jobs.push(fromShell(new Request(url.pathname)));
      }
    });
    var pack = packOf(d.path || '');
    var p = Promise.all(jobs);
    if (pack && d.path.indexOf('/packs/') === 0) {
      p = p.then(function () {
        return current(pack, true); // one revalidation (a 304) a page
      }).then(function (st) {
        if (!st) {
          return null;
        }
        var files = (d.resources || []).map(function (u) {
          return new URL(u, self.location.href).pathname;
        }).filter(function (u) {
          return st.manifest.files.indexOf(u) >= 0;
        });
        var page = d.search ? null : keepPage(st, d.path, null);
        return Promise.all([page, fetchInto(st, [], files, null)]).then(function () {
          return near(st, d.path);
        });
      });
    }
    return p.then(function () {
      return checkAll(pack);
    }).then(function () {
      return {ok: true};
    });
  }

  // checkAll checks the version of every pack kept, but skip.
  function checkAll(skip) {
    return loadPacks().then(function (all) {
      return each(Object.keys(all), function (id) {
        return id === skip ? null : current(id, false);
      });
    });
  }

  function status() {
    return loadPacks().then(function (all) {
      var ids = Object.keys(all);
      return Promise.all(ids.map(function (id) {
        var st = all[id];
        return caches.open(st.cache).then(function (c) {
          return c.keys();
        }).then(function (reqs) {
          var have = {};
          reqs.forEach(function (r) {
            have[new URL(r.url).pathname] = true;
          });
          var m = st.manifest || {lessons: []};
          return {
            pack: id, title: st.title, titleLang: m.title_lang, name: st.name, lang: st.lang, saved: !!st.saved, saving: !!st.saving,
            bytes: st.bytes || 0,
            lessons: m.lessons.filter(function (l) {
              return have[l.url];
            }).map(function (l) {
              return {url: l.url, title: l.title};
            })
          };
        });
      }));
    }).then(function (list) {
      return {packs: list};
    });
  }

  function remove(pack) {
    return forgetPack(pack).then(function () {
      return {ok: true};
    });
  }

  self.addEventListener('message', function (e) {
    var d = e.data || {};
    var port = e.ports && e.ports[0];
    var work = null;
    if (d.type === 'claim') {
      work = self.clients.claim();
    } else if (d.type === 'opened') {
      work = opened(d);
    } else if (d.type === 'save') {
      work = save(d.pack);
    } else if (d.type === 'remove') {
      work = remove(d.pack);
    } else if (d.type === 'status') {
      work = status();
    }
    if (!work) {
      return;
    }
    e.waitUntil(work.then(function (v) {
      if (port) {
        port.postMessage(v);
      }
    }, function (err) {
      if (port) {
        port.postMessage({error: String(err && err.message || err)});
      }
    }));
  });

  // --- answering requests -------------------------------------------------

  function fromShell(req) {
    return caches.match(req, {ignoreVary: true}).then(function (hit) {
      if (hit) {
        return hit;
      }
      return fetch(req).then(function (res) {
        var path = new URL(req.url).pathname;
        if (res.status === 200 && path.indexOf('/static/' + CFG.version + '/') === 0) {
          var copy = res.clone();
          caches.open(SHELL).then(function (c) {
            return c.put(req, copy);
          });
        }
        return res;
      });
    });
  }

  // deferred returns a promise and the function that settles it, for
  // waitUntil to cover work that starts later.
  function deferred() {
    var settle;
    var p = new Promise(function (resolve) {
      settle = resolve;
    });
    return {promise: p, done: settle};
  }

  function fromFiles(e, req, path) {
    var later = deferred();
    e.waitUntil(later.promise);
    return caches.match(path, {ignoreVary: true}).then(function (hit) {
      if (hit && req.mode === 'navigate' && /^\/files\/[^/]+\/[^/]+\/apps\//.test(path) &&
          (hit.headers.get('Content-Security-Policy') || '').indexOf('sandbox allow-scripts') < 0) {
        hit = null; // an app's page opens only in its sandbox (apps.js)
      }
      if (hit) {
        later.done();
        return hit;
      }
      return fetch(req).then(function (res) {
        var copy = res.clone();
        var pack = packOf(path);
        current(pack, false).then(function (st) {
          if (st && path.indexOf('/files/' + pack + '/' + st.name + '/') === 0) {
            return caches.open(st.cache).then(function (c) {
              return keepFile(c, path, copy, false);
            });
          }
          return null;
        }).then(later.done, later.done);
        return res;
      }, function (err) {
        later.done();
        throw err;
      });
    });
  }

  function offlinePage() {
    return readJSON(META, META_LANG).then(function (v) {
      var lang = v && v.lang || CFG.langs[0];
      return caches.match(offlineURL(lang), {ignoreVary: true});
    }).then(function (hit) {
      return hit || new Response('offline', {status: 503, headers: {'Content-Type': 'text/plain; charset=utf-8'}});
    });
  }

  // fromPages answers a navigation: from the box if it answers within
  // NET_TIMEOUT, else from the cache if the page is there, else from the box
  // when it answers, else the offline page.
  function fromPages(e, req, url) {
    var later = deferred();
    e.waitUntil(later.promise);
    var pack = packOf(url.pathname);
    var net = fetch(req).then(function (res) {
      if (res.ok && pack && url.pathname.indexOf('/packs/') === 0 && !url.search) {
        var copy = res.clone();
        current(pack, false).then(function (st) {
          return st ? keepPage(st, url.pathname, copy) : null;
        }).then(later.done, later.done);
      } else {
        later.done();
      }
      return res;
    }, function (err) {
      later.done();
      throw err;
    });
    return timeout(net, NET_TIMEOUT).catch(function () {
      return caches.match(url.pathname + url.search, {ignoreVary: true}).then(function (hit) {
        if (hit) {
          return hit;
        }
        return net.catch(offlinePage);
      });
    });
  }

  self.addEventListener('fetch', function (e) {
    var req = e.request;
    var url = new URL(req.url);
    if (url.origin !== self.location.origin) {
      return;
    }
    if (req.method !== 'GET') {
      if (req.mode === 'navigate') {
        // A form sent while the box is away: say so, instead of the
        // browser's error page.
        e.respondWith(fetch(req).catch(offlinePage));
      }
      return;
    }
    var path = url.pathname;
    if (path.indexOf('/static/') === 0) {
      e.respondWith(fromShell(req));
    } else if (path.indexOf('/files/') === 0) {
      if (!req.headers.has('Range')) {
        e.respondWith(fromFiles(e, req, path));
      }
    } else if (req.mode === 'navigate') {
      e.respondWith(fromPages(e, req, url));
    }
  });
}());
