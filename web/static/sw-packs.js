/* stembox service worker: the state of packs, kept in the META cache, and
 * fetching pages and files into a pack's cache.
 *
 * A part of the service worker: the box serves sw.js and its parts as one
 * script, inside one function, in the order of workerParts in
 * internal/server/offline.go; sw.js says what the worker does. ES5.
 */

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
