package box_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/url"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/mitstem/stembox/internal/i18n"
)

// Budgets of working offline, measured in Chromium and reported in the test
// log (go test -v -run TestOfflineBudgets ./internal/box/):
//   - bytes for a lesson page, cold (a new device) and warm (reloaded once
//     the service worker keeps it), from the DevTools protocol's network
//     events of the page, and on the wire (a counting proxy between the
//     browser and the box, which also sees the service worker's own fetches);
//   - time to first render on a 3G connection as Chromium emulates it;
//   - no page scrolls sideways on a 360×640 phone;
//   - basic accessibility: lang attributes, labels, text alternatives,
//     contrast, focus order and a visible focus;
//   - the connection bar in all three languages.

// Budget limits the test enforces.
const (
	coldLessonBudget = 100 << 10 // bytes for a lesson before its media, on a new device
	warmLessonBudget = 4 << 10   // bytes on the wire to reload a lesson the device keeps
)

// proxy counts the bytes between the browser and the box.
type proxy struct {
	ln       net.Listener
	down, up atomic.Int64 // box → browser, browser → box
	target   string
	wg       sync.WaitGroup
	closed   atomic.Bool
	connsMu  sync.Mutex
	conns    map[net.Conn]bool
}

func startProxy(t *testing.T, target string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, target: target, conns: map[net.Conn]bool{}}
	p.wg.Add(1)
	go p.serve()
	t.Cleanup(p.close)
	return p
}

func (p *proxy) url(path string) string { return "http://" + p.ln.Addr().String() + path }

func (p *proxy) serve() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.wg.Add(1)
		go p.relay(c)
	}
}

func (p *proxy) track(c net.Conn, on bool) {
	p.connsMu.Lock()
	defer p.connsMu.Unlock()
	if on {
		p.conns[c] = true
	} else {
		delete(p.conns, c)
	}
}

func (p *proxy) relay(c net.Conn) {
	defer p.wg.Done()
	defer c.Close()
	s, err := net.Dial("tcp", p.target)
	if err != nil {
		return // the box is away: the browser sees a closed connection
	}
	defer s.Close()
	p.track(c, true)
	p.track(s, true)
	defer p.track(c, false)
	defer p.track(s, false)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		n, _ := io.Copy(s, c)
		p.up.Add(n)
		s.(*net.TCPConn).CloseWrite()
	}()
	n, _ := io.Copy(countingWriter{c, &p.down}, s)
	_ = n
	c.(*net.TCPConn).CloseWrite()
	wg.Wait()
}

type countingWriter struct {
	w io.Writer
	n *atomic.Int64
}

func (c countingWriter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	c.n.Add(int64(n))
	return n, err
}

func (p *proxy) close() {
	if p.closed.Swap(true) {
		return
	}
	p.ln.Close()
	p.connsMu.Lock()
	for c := range p.conns {
		c.Close()
	}
	p.connsMu.Unlock()
	p.wg.Wait()
}

// netLog records the network events of a tab: what each request cost.
type netLog struct {
	mu     sync.Mutex
	reqs   map[network.RequestID]*netReq
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

type netReq struct {
	url                string
	bytes              float64 // encoded, with headers
	fromSW, fromCache  bool
	finished, received bool
}

func recordNetwork(tb *offTab) *netLog {
	ctx, cancel := context.WithCancel(tb.ctx)
	l := &netLog{reqs: map[network.RequestID]*netReq{}, cancel: cancel}
	got := chromedp.Events(ctx, network.ResponseReceived)
	done := chromedp.Events(ctx, network.LoadingFinished)
	l.wg.Add(2)
	go func() {
		defer l.wg.Done()
		for ev, err := range got {
			if err != nil {
				return
			}
			l.mu.Lock()
			r := l.req(ev.RequestID)
			r.url, r.fromSW, r.fromCache, r.received = ev.Response.URL, ev.Response.FromServiceWorker, ev.Response.FromDiskCache, true
			l.mu.Unlock()
		}
	}()
	go func() {
		defer l.wg.Done()
		for ev, err := range done {
			if err != nil {
				return
			}
			l.mu.Lock()
			r := l.req(ev.RequestID)
			r.bytes, r.finished = ev.EncodedDataLength, true
			l.mu.Unlock()
		}
	}()
	return l
}

func (l *netLog) req(id network.RequestID) *netReq {
	r, ok := l.reqs[id]
	if !ok {
		r = &netReq{}
		l.reqs[id] = r
	}
	return r
}

func (l *netLog) stop() []netReq {
	l.cancel()
	l.wg.Wait()
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []netReq
	for _, r := range l.reqs {
		if r.received {
			out = append(out, *r)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].url < out[j].url })
	return out
}

// sum adds up the bytes of requests, by kind.
func sum(rs []netReq) (total, media float64, lines []string) {
	for _, r := range rs {
		u, _ := url.Parse(r.url)
		how := ""
		switch {
		case r.fromSW:
			how = " (service worker)"
		case r.fromCache:
			how = " (disk cache)"
		}
		lines = append(lines, fmt.Sprintf("%7.0f %s%s", r.bytes, u.RequestURI(), how))
		if strings.HasPrefix(u.Path, "/files/") {
			media += r.bytes
		} else {
			total += r.bytes
		}
	}
	return total, media, lines
}

// throttle3G is a slow 3G link as Chromium emulates it: 400 ms round trips,
// 400 kbit/s each way (DevTools' "Slow 3G"). The command is sent by hand:
// Chromium 148 requires the top-level "offline" that cdproto's params (made
// from an older protocol) leave out, and answers "Invalid parameters"
// without it.
func throttle3G(ctx context.Context) error {
	byRule := cdp.Command[map[string]any, map[string]any]{Method: "Network.emulateNetworkConditionsByRule"}
	_, err := chromedp.Call(ctx, byRule, map[string]any{
		"offline":                  false,
		"matchedNetworkConditions": []network.Conditions{{Latency: 400, DownloadThroughput: 400 * 1000 / 8, UploadThroughput: 400 * 1000 / 8}},
	})
	return err
}

// firstRender returns the first contentful paint and the load time of the
// page now, in milliseconds.
func firstRender(tb *offTab) (fcp, load float64) {
	tb.t.Helper()
	tb.waitJS("the first paint", `performance.getEntriesByName("first-contentful-paint").length > 0 && performance.timing.loadEventEnd > 0`, 60*time.Second)
	v := offJS[[2]float64](tb, `[performance.getEntriesByName("first-contentful-paint")[0].startTime, performance.timing.loadEventEnd - performance.timing.navigationStart]`)
	return v[0], v[1]
}

func TestOfflineBudgets(t *testing.T) {
	offSkip(t)
	ob := newOffBox(t)
	sc := ob.school("Farrukh")
	px := startProxy(t, ob.addr)
	shots := newOffShooter(t, "budgets")
	br := offStartBrowser(t, 4*time.Minute)
	dev := br.device(t, "phone", px.url(""))

	// Cold: a device that never saw the box.
	rec := recordNetwork(dev)
	px.down.Store(0)
	dev.open("/packs/mini/lessons/speed")
	time.Sleep(time.Second)
	cold, coldMedia, lines := sum(rec.stop())
	t.Logf("lesson, cold, page's own requests (DevTools, bytes with headers):\n  %s", strings.Join(lines, "\n  "))
	dev.controlled("/packs/mini/lessons/speed", "/packs/mini/sets/speed/5")
	time.Sleep(500 * time.Millisecond)
	coldWire := px.down.Load()
	t.Logf("BUDGET lesson cold: %.1f KB before media (+ %.1f KB media) in the page; %.1f KB on the wire in all, with the service worker's install and its copies for offline", cold/1024, coldMedia/1024, float64(coldWire)/1024)
	if cold > coldLessonBudget {
		t.Errorf("a lesson costs %.0f bytes cold before media, over the budget of %d", cold, coldLessonBudget)
	}

	// Warm: the same lesson again, once the device keeps it.
	rec = recordNetwork(dev)
	px.down.Store(0)
	dev.load("/packs/mini/lessons/speed", chromedp.Reload())
	time.Sleep(1500 * time.Millisecond)
	warm, warmMedia, lines := sum(rec.stop())
	warmWire := px.down.Load()
	t.Logf("lesson, warm, page's requests (DevTools):\n  %s", strings.Join(lines, "\n  "))
	t.Logf("BUDGET lesson warm: %.0f bytes in the page's own requests (+ %.0f media), %d bytes on the wire in all (revalidations: 304s)", warm, warmMedia, warmWire)
	if warmWire > warmLessonBudget {
		t.Errorf("reloading a kept lesson costs %d bytes on the wire, want under %d", warmWire, warmLessonBudget)
	}

	// Slow 3G, in a browser of its own: first render cold, then warm.
	br3 := offStartBrowser(t, 4*time.Minute)
	slow := br3.device(t, "phone on 3G", px.url(""))
	if err := throttle3G(slow.ctx); err != nil {
		t.Fatalf("emulate 3G: %v", err)
	}
	started := time.Now()
	slow.open("/packs/mini/lessons/speed")
	fcpCold, loadCold := firstRender(slow)
	t.Logf("BUDGET 3G (400 ms, 400 kbit/s) cold: first render %.0f ms, loaded %.0f ms (test saw %s)", fcpCold, loadCold, time.Since(started).Round(time.Millisecond))
	slow.controlled("/packs/mini/lessons/speed")
	workerThrottled := "the page only"
	if sw := serviceWorkerTarget(slow); sw != nil {
		if err := throttle3G(sw); err == nil {
			workerThrottled = "the page and the service worker"
		}
	}
	slow.load("/packs/mini/lessons/speed", chromedp.Reload())
	fcpWarm, loadWarm := firstRender(slow)
	t.Logf("BUDGET 3G warm (throttling %s): first render %.0f ms, loaded %.0f ms", workerThrottled, fcpWarm, loadWarm)
	if fcpCold > 10000 {
		t.Errorf("first render on 3G takes %.0f ms cold, want under 10 s", fcpCold)
	}

	// Every page a student meets fits a 360 px phone and passes the basic
	// accessibility checks; so do the teacher's.
	pages := []string{"/", "/packs/mini", "/packs/mini/lessons/speed", "/packs/mini/lessons/force", "/packs/mini/sets/speed",
		"/packs/mini/sets/speed/1", "/packs/mini/sets/speed/2", "/packs/mini/sets/speed/3", "/packs/mini/sets/speed/4", "/packs/mini/sets/speed/5",
		"/packs/mini/sets/quiz/1", "/student", "/student/" + sc.class.Code, "/login", "/offline?lang=tg", "/offline?lang=ru", "/offline?lang=en"}
	for _, lang := range []string{"tg", "en"} {
		dev.open("/lang/" + lang + "?next=/")
		for _, p := range pages {
			dev.open(p)
			dev.settle()
			dev.noSideScroll(lang + " " + p)
			accessible(dev, lang+" "+p)
		}
	}
	// Signed in, and with a verdict.
	dev.signIn(sc.class.Code, "Farrukh")
	for _, p := range []string{"/me", "/packs/mini/lessons/speed", "/packs/mini/sets/speed/4"} {
		dev.open(p)
		dev.noSideScroll("student " + p)
		accessible(dev, "student "+p)
	}
	dev.do(chromedp.SendKeys(chromedp.CSS(`form.exercise input[name=text]`), "5"))
	dev.tapTo(`form.exercise button[type=submit]`, "/packs/mini/sets/speed/4")
	dev.do(chromedp.WaitVisible(chromedp.CSS(`section.verdict.right`)))
	dev.noSideScroll("verdict")
	accessible(dev, "verdict")
	shots.take(dev, "verdict-online")
	focusOrder(dev, "/packs/mini/sets/speed/5")
	focusOrder(dev, "/packs/mini/lessons/speed")

	// The connection bar, in each language, online and offline.
	for _, lang := range []string{"tg", "ru", "en"} {
		dev.open("/lang/" + lang + "?next=/packs/mini/lessons/speed")
		dev.waitConn(i18n.T(lang, "offline.online"), 10*time.Second)
		// The offer to save speaks the page's language too.
		want := strings.SplitN(i18n.T(lang, "offline.save_intro"), "(", 2)[0]
		dev.waitJS("the offer to save in "+lang, fmt.Sprintf(`(function(){var b=document.querySelector("[data-offline-save]");return !!b&&b.innerText.indexOf(%q)>=0})()`, want), 10*time.Second)
		shots.take(dev, "online-"+lang)
	}
	// The device's copy of the pack follows the language: wait until it is
	// in English before the box goes. The worker fetches the whole saved
	// pack again for that, which under the race detector on a loaded CI
	// machine has taken more than 20 s: this bounds liveness, not speed
	// (speed is the BUDGET lines above).
	dev.waitJS("the kept pack to be in English", `caches.keys().then(function(ks){
		var p = ks.filter(function(k){return k.indexOf("stembox-pack-mini@")===0});
		return p.length===1 && p[0].indexOf("@en@")>0 })`, 90*time.Second)
	ob.stop()
	for _, lang := range []string{"tg", "ru", "en"} {
		// Without the box the language cannot change: read the kept
		// offline page of each language instead, and the lesson.
		dev.open("/offline?lang=" + lang)
		dev.waitConn(i18n.T(lang, "offline.offline"), 10*time.Second)
		dev.noSideScroll("offline page " + lang)
		accessible(dev, "offline page "+lang)
		shots.take(dev, "offline-"+lang)
	}
	dev.open("/packs/mini/lessons/speed")
	dev.waitConn(i18n.T("en", "offline.offline"), 10*time.Second)
	accessible(dev, "lesson offline")
}

// serviceWorkerTarget attaches to the service worker of the tab's browser.
func serviceWorkerTarget(tb *offTab) context.Context {
	infos, err := chromedp.Targets(tb.ctx)
	if err != nil {
		return nil
	}
	for _, in := range infos {
		if in.Type == "service_worker" {
			ctx, cancel := chromedp.NewContext(tb.ctx, chromedp.WithTargetID(in.TargetID))
			tb.t.Cleanup(cancel)
			if err := chromedp.Do(ctx); err != nil {
				return nil
			}
			return ctx
		}
	}
	return nil
}

// accessible runs basic checks on the page now: its language, labels of
// form fields, text alternatives, names of links and buttons, no positive
// tabindex, and the contrast of every piece of text (WCAG AA: 4.5:1, 3:1
// for large text).
func accessible(tb *offTab, page string) {
	tb.t.Helper()
	problems := offJS[[]string](tb, `(function () {
		var out = [];
		var lang = document.documentElement.getAttribute("lang");
		if (["tg", "ru", "en"].indexOf(lang) < 0) out.push("html lang=" + lang);
		function shown(e) { var r = e.getBoundingClientRect(); return r.width > 0 && r.height > 0 && getComputedStyle(e).visibility !== "hidden"; }
		Array.prototype.forEach.call(document.querySelectorAll("input, select, textarea"), function (e) {
			if (e.type === "hidden" || !shown(e)) return;
			var named = e.closest("label") || (e.id && document.querySelector('label[for="' + e.id + '"]')) || e.getAttribute("aria-label") || e.getAttribute("aria-labelledby");
			if (!named) out.push("no label: " + e.outerHTML.slice(0, 80));
		});
		Array.prototype.forEach.call(document.querySelectorAll("img"), function (e) { if (!e.hasAttribute("alt")) out.push("no alt: " + e.src); });
		Array.prototype.forEach.call(document.querySelectorAll("a[href], button"), function (e) {
			if (shown(e) && !e.textContent.trim() && !e.getAttribute("aria-label")) out.push("no name: " + e.outerHTML.slice(0, 80));
		});
		Array.prototype.forEach.call(document.querySelectorAll("[tabindex]"), function (e) { if (e.tabIndex > 0) out.push("tabindex>0: " + e.outerHTML.slice(0, 60)); });
		function rgba(s) { var m = s.match(/[\d.]+/g) || [0, 0, 0, 0]; return [+m[0], +m[1], +m[2], m.length > 3 ? +m[3] : 1]; }
		function over(a, b) { return [a[0] * a[3] + b[0] * (1 - a[3]), a[1] * a[3] + b[1] * (1 - a[3]), a[2] * a[3] + b[2] * (1 - a[3]), 1]; }
		function background(e) { if (!e || e.nodeType !== 1) return [255, 255, 255, 1]; var c = rgba(getComputedStyle(e).backgroundColor); var under = background(e.parentElement); return c[3] === 0 ? under : over(c, under); }
		function lum(c) { return c.slice(0, 3).map(function (v) { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); }).reduce(function (s, v, i) { return s + v * [0.2126, 0.7152, 0.0722][i]; }, 0); }
		Array.prototype.forEach.call(document.querySelectorAll("body *"), function (e) {
			if (!shown(e) || e.closest(".katex, svg")) return;
			var own = Array.prototype.some.call(e.childNodes, function (n) { return n.nodeType === 3 && n.textContent.trim(); });
			if (!own) return;
			var cs = getComputedStyle(e), bg = background(e), fg = over(rgba(cs.color), bg);
			var l1 = lum(fg), l2 = lum(bg), ratio = (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05);
			var size = parseFloat(cs.fontSize), large = size >= 24 || (size >= 18.6 && +cs.fontWeight >= 700);
			if (ratio < (large ? 3 : 4.5)) out.push("contrast " + ratio.toFixed(2) + ": " + e.tagName.toLowerCase() + "." + e.className + " " + JSON.stringify(e.textContent.trim().slice(0, 40)));
		});
		return out;
	})()`)
	for _, p := range problems {
		tb.t.Errorf("%s: %s", page, p)
	}
}

// focusOrder tabs through a page with the keyboard: focus must move
// forward through the document, and show.
func focusOrder(tb *offTab, path string) {
	tb.t.Helper()
	tb.open(path)
	tb.do(chromedp.Evaluate[chromedp.Void](`document.activeElement && document.activeElement.blur && document.activeElement.blur()`))
	var seen []string
	last := -1
	for i := 0; i < 25; i++ {
		tb.do(chromedp.KeyEvent(kb.Tab))
		v := offJS[[]any](tb, `(function () {
			var e = document.activeElement;
			if (!e || e === document.body) return [-1, "", false];
			var all = document.querySelectorAll("*"), at = Array.prototype.indexOf.call(all, e);
			var cs = getComputedStyle(e);
			return [at, e.tagName.toLowerCase() + " " + (e.textContent || e.value || e.name || "").trim().slice(0, 30), cs.outlineStyle !== "none" && parseFloat(cs.outlineWidth) > 0];
		})()`)
		at := int(v[0].(float64))
		if at < 0 || at < last {
			break // back to the start
		}
		seen = append(seen, v[1].(string))
		if !v[2].(bool) {
			tb.t.Errorf("%s: focus on %q does not show", path, v[1])
		}
		last = at
	}
	if len(seen) < 3 {
		tb.t.Errorf("%s: tabbing reaches only %q", path, seen)
	}
	tb.t.Logf("focus order of %s: %q", path, seen)
}
