/* stembox: apps of packs (simulations, virtual labs) on the page that
 * embeds them, a lesson or an app's own page (docs/pack-format.md, "Apps").
 *
 * - takes an app's result messages: only from the frame of an app of this
 *   page (event.source), only of the exact shape of version 1, at most
 *   MAX_RESULTS an app and page; anything else is dropped unread;
 * - records a result through the answers' queue of offline.js
 *   (window.stemboxRecordResult): sent with an id made on the device, kept
 *   on it while the box is away, applied once by the box;
 * - offers "full screen" for each app;
 * - while the box cannot be reached, opens an app from the service worker's
 *   copy (docs/offline.md, "Apps").
 *
 * Plain ES5, for Chrome 70-era phones, like offline.js.
 */
(function (root) {
  'use strict';

  var doc = root.document;
  var MAX_SUMMARY = 200;
  var MAX_RESULTS = 20;
  var KEYS = ['completed', 'max', 'score', 'summary', 'type', 'version'];

  var lib = root.stemboxApps = {};

  // lib.check returns the result a message carries, or null when it is not
  // exactly {type: "stembox.result", version: 1, completed, score, max,
  // summary}.
  lib.check = function (d) {
    if (!d || typeof d !== 'object' || Object.prototype.toString.call(d) !== '[object Object]') {
      return null;
    }
    var keys = Object.keys(d).sort();
    if (keys.length !== KEYS.length) {
      return null;
    }
    for (var i = 0; i < KEYS.length; i++) {
      if (keys[i] !== KEYS[i]) {
        return null;
      }
    }
    if (d.type !== 'stembox.result' || d.version !== 1 || typeof d.completed !== 'boolean' ||
        typeof d.score !== 'number' || typeof d.max !== 'number' || typeof d.summary !== 'string' ||
        !isFinite(d.score) || !isFinite(d.max) || d.max < 0 || d.score < 0 || d.score > d.max ||
        d.summary.length > MAX_SUMMARY) {
      return null;
    }
    return {completed: d.completed, score: d.score, max: d.max, summary: d.summary};
  };

  if (!doc) {
    return; // outside a browser (its tests): lib only
  }
  var ui = doc.getElementById('app-ui');
  var m = /^\/packs\/([^/]+)\//.exec(root.location.pathname);
  var frames = doc.querySelectorAll('figure.app iframe[data-app]');
  if (!m || !frames.length) {
    return;
  }
  var pack = m[1];
  var counts = {};

  function frameOf(source) {
    for (var i = 0; i < frames.length; i++) {
      if (source && frames[i].contentWindow === source) {
        return frames[i];
      }
    }
    return null;
  }

  function say(text) {
    if (ui) {
      ui.textContent = text;
    }
  }

  function post(r) {
    if (root.stemboxRecordResult) {
      return root.stemboxRecordResult(r);
    }
    return Promise.reject(new Error('no queue'));
  }

  root.addEventListener('message', function (e) {
    var f = frameOf(e.source);
    if (!f) {
      return; // not one of this page's apps: another frame, a forgery
    }
    var r = lib.check(e.data);
    var app = f.getAttribute('data-app');
    if (!r) {
      if (root.console) {
        root.console.warn('stembox: app ' + app + ' sent a message that is not a result');
      }
      return;
    }
    counts[app] = (counts[app] || 0) + 1;
    if (counts[app] > MAX_RESULTS) {
      return;
    }
    r.pack = pack;
    r.app = app;
    post(r).then(function (how) {
      var shown = r.max > 0 ? r.score + ' / ' + r.max : '✓';
      if (r.summary) {
        shown += ' — ' + r.summary;
      }
      say(how === 'kept' ? ui.getAttribute('data-kept') : ui.getAttribute('data-saved').replace('%s', shown));
      f.setAttribute('data-result', how);
    }, function (err) {
      say(String(err && err.message || err));
    });
  });

  // Full screen: the app's figure fills the screen (a phone, a projector).
  function fullScreen(fig) {
    var go = fig.requestFullscreen || fig.webkitRequestFullscreen;
    if (go) {
      go.call(fig);
    }
  }

  for (var i = 0; i < frames.length; i++) {
    (function (f) {
      var fig = f.parentNode;
      if (!ui || !(fig.requestFullscreen || fig.webkitRequestFullscreen)) {
        return;
      }
      var b = doc.createElement('button');
      b.type = 'button';
      b.className = 'link app-full';
      b.textContent = ui.getAttribute('data-full');
      b.addEventListener('click', function () {
        fullScreen(fig);
      });
      fig.appendChild(b);
    }(frames[i]));
  }

  // Offline: a sandboxed frame is never given to the service worker, so
  // while the box is away an app's frame is made anew without the
  // attribute; the worker answers with the kept copy of the app's page, whose
  // Content-Security-Policy header (sandbox allow-scripts) gives it the same
  // sandbox (the worker serves no copy without it).
  function fromDevice(f) {
    var copy = doc.createElement('iframe');
    copy.setAttribute('title', f.getAttribute('title') || '');
    copy.setAttribute('data-app', f.getAttribute('data-app'));
    copy.setAttribute('data-offline', 'true');
    copy.src = f.src;
    f.parentNode.replaceChild(copy, f);
    frames = doc.querySelectorAll('figure.app iframe[data-app]');
  }

  var sw = root.navigator.serviceWorker;
  if (sw && sw.controller && root.fetch) {
    var list = [];
    for (var j = 0; j < frames.length; j++) {
      list.push(frames[j]);
    }
    list.forEach(function (f) {
      var url = f.src.split('#')[0];
      root.fetch(url, {method: 'HEAD', cache: 'no-store', credentials: 'omit'}).then(null, function () {
        return root.caches.match(url).then(function (hit) {
          if (hit) {
            fromDevice(f);
          }
        });
      });
    });
  }
}(this));
