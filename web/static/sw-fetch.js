/* stembox service worker: answering requests — the app shell, a pack's
 * files, pages (from the network first, else from the cache).
 *
 * A part of the service worker: the box serves sw.js and its parts as one
 * script, inside one function, in the order of workerParts in
 * internal/server/offline.go; sw.js says what the worker does. ES5.
 */

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
