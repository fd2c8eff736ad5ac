/* stembox service worker: what pages ask of it — a page opened (keep what
 * a student will want next), save, status, remove, claim.
 *
 * A part of the service worker: the box serves sw.js and its parts as one
 * script, inside one function, in the order of workerParts in
 * internal/server/offline.go; sw.js says what the worker does. ES5.
 */

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
