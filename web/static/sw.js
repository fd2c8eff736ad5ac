/* stembox service worker (docs/offline.md).
 *
 * The box serves this file and its parts (below) at /sw.js, after a first
 * line that sets self.STEMBOX_SW = {version, shell, offline, langs}. It keeps:
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
 *
 * The box serves it as one script made of parts, by idea, each under 400
 * lines, inside one function (internal/server/offline.go, workerParts):
 *   sw.js           its configuration, install and activate;
 *   sw-packs.js     the state of packs (in the META cache) and fetching;
 *   sw-versions.js  versions of packs: checking, moving, saving;
 *   sw-messages.js  what pages ask (opened, save, status, remove);
 *   sw-fetch.js     answering requests: the shell, files, pages.
 * So the parts share one scope, as one file did, and browsers see one
 * worker script whose bytes change with any part.
 */
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
