/* stembox offline: the page's strings, small helpers, and the queue of
 * answers kept on the device (IndexedDB, else localStorage) while the box
 * is away.
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

  page.lang = lang;
  page.msg = msg;
  page.timeout = timeout;
  page.each = each;
  page.el = el;
  page.store = store;
  page.load = load;
  page.queue = queue;
  page.readMessages = readMessages;
}(this));
