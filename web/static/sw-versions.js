/* stembox service worker: the versions of packs — checking a pack's
 * version with the box, moving its cached copy to a new one, saving it.
 *
 * A part of the service worker: the box serves sw.js and its parts as one
 * script, inside one function, in the order of workerParts in
 * internal/server/offline.go; sw.js says what the worker does. ES5.
 */

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
