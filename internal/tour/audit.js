// The tour's audit of the page in view (internal/tour/audit.go runs it).
// It returns a list of findings {check, el, detail}. It runs in the tour's
// own Chromium, not on the students' phones, so it may use any JavaScript.
(function (opts) {
  "use strict";
  var out = [];
  var vw = document.documentElement.clientWidth;
  var pageLang = (document.documentElement.lang || "").toLowerCase();
  // scope: the part of the page whose elements are checked (opts.scope, a
  // CSS selector; the whole body by default). The side scroll is the page's.
  var scope = (opts.scope && document.querySelector(opts.scope)) || document.body;

  function describe(e) {
    var s = e.tagName.toLowerCase();
    if (e.id) s += "#" + e.id;
    if (typeof e.className === "string" && e.className.trim()) s += "." + e.className.trim().split(/\s+/).join(".");
    var t = (e.innerText || e.value || e.getAttribute("aria-label") || "").trim().replace(/\s+/g, " ");
    if (t) s += ' "' + (t.length > 40 ? t.slice(0, 40) + "…" : t) + '"';
    return s;
  }
  function add(check, e, detail) { out.push({ check: check, el: e ? describe(e) : "document", detail: detail }); }

  // visible: rendered, not hidden by visibility or opacity, and bigger than
  // the 1 px box of a text kept for screen readers only.
  function visible(e) {
    if (!e.getClientRects().length) return false;
    // What a closed <details> holds keeps its boxes (content-visibility).
    if (e.checkVisibility && !e.checkVisibility({ contentVisibilityAuto: true, opacityProperty: true, visibilityProperty: true })) return false;
    var r = e.getBoundingClientRect();
    if (r.width <= 1 || r.height <= 1) return false;
    for (var a = e; a && a.nodeType === 1; a = a.parentElement) {
      var s = getComputedStyle(a);
      if (s.visibility === "hidden" || s.opacity === "0" || s.display === "none") return false;
    }
    return true;
  }
  // skipped: what the audit leaves alone on purpose: an element marked
  // data-audit-skip (every check), or data-audit-skip="english cut-off"
  // (those checks), and what is inside it.
  function skipped(e, check) {
    for (var a = e.closest("[data-audit-skip]"); a; a = a.parentElement && a.parentElement.closest("[data-audit-skip]")) {
      var v = a.getAttribute("data-audit-skip").trim();
      if (!v || v.split(/\s+/).indexOf(check) >= 0) return true;
    }
    return false;
  }

  // 1. The page scrolls sideways.
  var sw = document.documentElement.scrollWidth;
  if (sw > vw + 1) add("side-scroll", null, "the page is " + sw + " px wide in a " + vw + " px viewport");

  // 2. An element wider than the viewport, or reaching past its right
  // edge, except inside an element that scrolls by itself.
  function scrollsInside(e) {
    for (var a = e.parentElement; a && a !== document.body; a = a.parentElement) {
      var s = getComputedStyle(a);
      if (s.overflowX === "auto" || s.overflowX === "scroll" || s.overflowX === "hidden" || s.overflowX === "clip") return true;
    }
    return false;
  }
  var all = Array.prototype.slice.call(scope.querySelectorAll("*"));
  var wide = [];
  all.forEach(function (e) {
    if (skipped(e, "too-wide") || !e.getClientRects().length) return;
    var r = e.getBoundingClientRect();
    if ((r.width > vw + 1 || r.right > vw + 1) && r.width > 1 && !scrollsInside(e)) {
      var s = getComputedStyle(e);
      if (s.position === "fixed" && s.visibility === "hidden") return;
      if (wide.some(function (w) { return w.contains(e); })) return; // its parent said it already
      wide.push(e);
      add("too-wide", e, "from " + Math.round(r.left) + " to " + Math.round(r.right) + " px in a " + vw + " px viewport");
    }
  });

  // 3. Text cut off: a box that hides or ellipsises its overflowing text.
  all.forEach(function (e) {
    if (skipped(e, "cut-off") || !visible(e)) return;
    var s = getComputedStyle(e);
    var hidesX = s.overflowX === "hidden" || s.overflowX === "clip" || s.textOverflow === "ellipsis";
    var hidesY = s.overflowY === "hidden" || s.overflowY === "clip" || s.webkitLineClamp !== "none" && s.webkitLineClamp;
    if (!hidesX && !hidesY) return;
    if (!(e.innerText || "").trim()) return;
    if (hidesX && e.scrollWidth > e.clientWidth + 1) add("cut-off", e, "text " + e.scrollWidth + " px wide in a box of " + e.clientWidth + " px");
    else if (hidesY && e.scrollHeight > e.clientHeight + 1) add("cut-off", e, "text " + e.scrollHeight + " px high in a box of " + e.clientHeight + " px");
  });

  // 4. Tap targets under 44 px on a phone. Exceptions: a link inside
  // running text (a line of words around it, WCAG 2.5.8's "inline"), a
  // radio or checkbox inside a label (the label is the target), and what
  // is disabled or hidden.
  function inRunningText(a) {
    var p = a.parentElement;
    if (!p) return false;
    if (getComputedStyle(a).display !== "inline") return false;
    for (var n = p.firstChild; n; n = n.nextSibling) {
      if (n !== a && n.nodeType === 3 && /[^\s›»«·|,.:;()–—-]/.test(n.textContent)) return true;
      if (n !== a && n.nodeType === 1 && getComputedStyle(n).display === "inline" && n.tagName !== "A" && /\S/.test(n.textContent)) return true;
    }
    return false;
  }
  if (opts.phone) {
    scope.querySelectorAll("a[href], button, input, select, textarea, summary").forEach(function (e) {
      if (skipped(e, "tap-target") || !visible(e) || e.disabled || e.type === "hidden") return;
      if ((e.type === "radio" || e.type === "checkbox") && e.closest("label")) return;
      if (e.tagName === "A" && inRunningText(e)) return;
      var r = e.getBoundingClientRect();
      // A target may be as tall as 44 px together with its label around it.
      var l = e.closest("label");
      if (l && e.tagName === "INPUT") r = l.getBoundingClientRect();
      if (r.width < 43.5 || r.height < 43.5) add("tap-target", e, Math.round(r.width) + "×" + Math.round(r.height) + " px, want at least 44×44");
    });
  }

  // Text nodes that are shown, with the element that holds each (which
  // checks skip is decided per check below).
  var texts = [];
  var walker = document.createTreeWalker(scope, NodeFilter.SHOW_TEXT);
  for (var n = walker.nextNode(); n; n = walker.nextNode()) {
    var p = n.parentElement;
    if (!p || !/\S/.test(n.textContent)) continue;
    if (p.closest("script,style,noscript,template") || !visible(p)) continue;
    texts.push({ node: n, el: p });
  }
  // Words a user reads that are not text nodes.
  var attrs = [];
  scope.querySelectorAll("[placeholder],[title],[aria-label],img[alt],input[type=submit][value],input[type=button][value]").forEach(function (e) {
    if (e.closest("head")) return;
    ["placeholder", "title", "aria-label", "alt", "value"].forEach(function (a) {
      if (a === "value" && !(e.tagName === "INPUT" && (e.type === "submit" || e.type === "button"))) return;
      var v = e.getAttribute(a);
      if (v && /\S/.test(v)) attrs.push({ text: v, el: e, attr: a });
    });
  });

  // 5. Unformatted placeholders of Go's fmt: %d %s %v %q %x %f %!…
  var verb = /%[-+#0]*\d*(\.\d+)?[dsvqxXfgtTeEcbU]\b|%!/;
  texts.forEach(function (t) {
    if (skipped(t.el, "placeholder")) return;
    var m = verb.exec(t.node.textContent);
    if (m) add("placeholder", t.el, 'shows "' + m[0] + '" in "' + t.node.textContent.trim().slice(0, 60) + '"');
  });
  attrs.forEach(function (a) {
    if (skipped(a.el, "placeholder")) return;
    var m = verb.exec(a.text);
    if (m) add("placeholder", a.el, a.attr + ' shows "' + m[0] + '" in "' + a.text.slice(0, 60) + '"');
  });

  // 6. English words on a Tajik or Russian page, outside content and
  // names: an element (or one around it) in another language (lang=…),
  // marked data-content (a pack's words) or data-user (what users typed:
  // names, titles), code, and addresses (http://…, /paths).
  function words(s) { return s.replace(/\S*(:\/\/|\/)\S*/g, " "); }
  if (pageLang && pageLang !== "en") {
    var re = new RegExp("(^|[^A-Za-z])(" + (opts.englishWords || []).join("|") + ")(?![A-Za-z])", "i");
    var foreign = function (e) {
      if (skipped(e, "english") || e.closest("[data-content],[data-user],code,kbd,pre,samp,.katex")) return true;
      var l = e.closest("[lang]");
      return !!l && l.getAttribute("lang").toLowerCase().split("-")[0] !== pageLang;
    };
    texts.forEach(function (t) {
      if (foreign(t.el)) return;
      var m = re.exec(words(t.node.textContent));
      if (m) add("english", t.el, 'the English word "' + m[2] + '" in "' + t.node.textContent.trim().slice(0, 60) + '"');
    });
    attrs.forEach(function (a) {
      if (foreign(a.el)) return;
      var m = re.exec(words(a.text));
      if (m) add("english", a.el, a.attr + ' has the English word "' + m[2] + '" in "' + a.text.slice(0, 60) + '"');
    });
  }

  // 7. Contrast below WCAG AA: 4.5:1, or 3:1 for large text (24 px, or
  // 18.66 px bold), between a text's colour and the background it sits on
  // (the backgrounds of it and its ancestors, laid over each other).
  function rgba(c) {
    var m = /rgba?\(([\d.]+),\s*([\d.]+),\s*([\d.]+)(?:,\s*([\d.]+))?\)/.exec(c);
    if (!m) return null;
    return [+m[1], +m[2], +m[3], m[4] === undefined ? 1 : +m[4]];
  }
  function over(top, under) { // top (with alpha) laid over an opaque under
    var a = top[3];
    return [top[0] * a + under[0] * (1 - a), top[1] * a + under[1] * (1 - a), top[2] * a + under[2] * (1 - a), 1];
  }
  function background(e) { // null when an image or gradient is under the text
    var layers = [];
    for (var a = e; a; a = a.parentElement) {
      var s = getComputedStyle(a);
      if (s.backgroundImage && s.backgroundImage !== "none") return null;
      var c = rgba(s.backgroundColor);
      if (c && c[3] > 0) {
        layers.push(c);
        if (c[3] >= 1) break;
      }
    }
    var bg = [255, 255, 255, 1];
    for (var i = layers.length - 1; i >= 0; i--) bg = over(layers[i], bg);
    return bg;
  }
  function lum(c) {
    var f = function (v) { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]);
  }
  var seen = new Set();
  texts.forEach(function (t) {
    var e = t.el;
    if (seen.has(e) || skipped(e, "contrast")) return;
    seen.add(e);
    if (e.closest("button:disabled,input:disabled,select:disabled,textarea:disabled,fieldset:disabled")) return; // inactive: exempt
    var s = getComputedStyle(e);
    var fg = rgba(s.color), bg = background(e);
    if (!fg || !bg) return;
    var opacity = 1;
    for (var a = e; a; a = a.parentElement) opacity *= parseFloat(getComputedStyle(a).opacity);
    fg = over([fg[0], fg[1], fg[2], fg[3] * opacity], bg);
    var l1 = lum(fg), l2 = lum(bg);
    var ratio = (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05);
    var size = parseFloat(s.fontSize), bold = parseInt(s.fontWeight, 10) >= 700;
    var want = size >= 24 || (bold && size >= 18.66) ? 3 : 4.5;
    if (ratio < want - 0.005) add("contrast", e, "contrast " + ratio.toFixed(2) + ":1 (" + s.color + " on rgb(" + bg.slice(0, 3).map(Math.round).join(", ") + "), " + size + " px), want " + want + ":1");
  });

  return out;
})
