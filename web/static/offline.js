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
 * The script is five files, loaded in this order (layout.html, all defer):
 *   offline.js           the helpers with no page (window.StemboxOffline:
 *                        ulid, fmt, size, exercise, verdictKind), tested
 *                        outside a browser;
 *   offline-queue.js     the page's strings, small helpers, the queue;
 *   offline-sync.js      the connection state and talking to the box;
 *   offline-exercise.js  exercise forms and sets' pages;
 *   offline-packs.js     the service worker, saved packs, apps' results,
 *                        and the start.
 * Each part after this one is a function of its own that takes what it
 * needs from StemboxOffline.page, where the parts before it put it.
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

  // The parts work on a page of the box (it has the connection line) in a
  // browser with Promise and fetch; they share what they need in lib.page,
  // each part adding what the next ones use.
  var doc = root.document;
  var conn = doc && doc.getElementById ? doc.getElementById('offline-conn') : null;
  if (conn && root.Promise && root.fetch) {
    lib.page = {doc: doc, conn: conn};
  }
}(this));
