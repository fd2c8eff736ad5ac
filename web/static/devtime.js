/* stembox: the device tells the box its time (docs/offline.md, "The
 * device's time"). A school box has no real-time clock and often no
 * network; the phones and laptops of the class have both. Once a page is
 * loaded, and at most once a minute per tab, this sends the device's clock
 * to GET /api/v1/time in the header X-Device-Time (unix ms). The box takes
 * the median of many devices, outliers dropped; this script only tells.
 *
 * Written for Chrome 70: ES5 with fetch; nothing newer.
 */
(function () {
  'use strict';
  var KEY = 'stembox.devtime';
  var EVERY = 60000; // ms between two sends from one tab

  function send() {
    var now = Date.now();
    try {
      var last = Number(window.sessionStorage.getItem(KEY) || 0);
      if (last && now - last < EVERY && now >= last) {
        return;
      }
      window.sessionStorage.setItem(KEY, String(now));
    } catch (e) {
      // No storage (a private window): send every time.
    }
    if (!window.fetch) {
      return;
    }
    window.fetch('/api/v1/time', {
      credentials: 'same-origin', cache: 'no-store',
      headers: {'X-Device-Time': String(Date.now())}
    }).catch(function () {});
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', send);
  } else {
    send();
  }
}());
