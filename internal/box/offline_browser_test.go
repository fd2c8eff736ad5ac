package box_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/mitstem/stembox/internal/auth"
	"github.com/mitstem/stembox/internal/box"
	"github.com/mitstem/stembox/internal/content/contenttest"
	"github.com/mitstem/stembox/internal/store"
)

// The browser tests of working offline (docs/offline.md) drive Debian's
// Chromium against a real box that they stop and start again on the same
// address. Their helpers are named off… so that they stay apart from the
// other browser tests of this package.

const offChromium = "/usr/bin/chromium"

func offSkip(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("browser test skipped under -short")
	}
	if _, err := os.Stat(offChromium); err != nil {
		t.Skipf("browser test skipped: no Chromium at %s (apt-get install chromium)", offChromium)
	}
}

// offBox is a box on a fixed loopback address, so that it can be stopped
// (a power cut, a Wi-Fi drop) and started again where the browser expects it.
type offBox struct {
	t           *testing.T
	data, packs string
	addr        string
	logs        *syncBuffer

	mu     sync.Mutex
	b      *box.Box
	cancel context.CancelFunc
	done   chan error
}

func newOffBox(t *testing.T) *offBox {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	o := &offBox{t: t, data: t.TempDir(), packs: t.TempDir(), addr: addr, logs: &syncBuffer{}}
	contenttest.CopyTree(t, contenttest.MiniDir(), filepath.Join(o.packs, "mini"))
	o.start()
	t.Cleanup(o.stop)
	return o
}

func (o *offBox) start() {
	o.t.Helper()
	o.mu.Lock()
	defer o.mu.Unlock()
	logger := slog.New(slog.NewTextHandler(o.logs, nil))
	var b *box.Box
	var err error
	for try := 0; try < 50; try++ { // the port may take a moment to be free again
		b, err = box.Open(context.Background(), box.Config{Addr: o.addr, DataDir: o.data, DevPacks: o.packs, Lang: "en"}, logger)
		if err == nil || !strings.Contains(err.Error(), "address already in use") {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		o.t.Fatalf("open box on %s: %v\n%s", o.addr, err, o.logs.String())
	}
	ctx, cancel := context.WithCancel(context.Background())
	o.b, o.cancel, o.done = b, cancel, make(chan error, 1)
	go func() { o.done <- b.Run(ctx) }()
}

func (o *offBox) stop() {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.b == nil {
		return
	}
	o.cancel()
	select {
	case err := <-o.done:
		if err != nil {
			o.t.Errorf("box run: %v", err)
		}
	case <-time.After(15 * time.Second):
		o.t.Error("box did not stop within 15 s")
	}
	o.b.Close()
	o.b = nil
}

func (o *offBox) db() *store.DB {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b.DB()
}

func (o *offBox) url(path string) string { return "http://" + o.addr + path }

// answers returns the answer events the box holds, in order.
func (o *offBox) answers() []store.Event {
	o.t.Helper()
	evs, err := o.db().EventsAfter(context.Background(), 0, 10000)
	if err != nil {
		o.t.Fatal(err)
	}
	var out []store.Event
	for _, ev := range evs {
		if ev.Kind == store.KindAnswerSubmitted {
			out = append(out, ev)
		}
	}
	return out
}

// offSchool is a teacher, a class with students, and the set "speed" and
// lesson "speed" of the mini pack assigned to it.
type offSchool struct {
	class    store.Class
	students []store.Student
}

const offPassword = "chalk-and-slate-7"

func (o *offBox) school(names ...string) offSchool {
	o.t.Helper()
	ctx := context.Background()
	db := o.db()
	teacher, err := db.CreateUser(ctx, "", store.RoleTeacher, "aziza", "Aziza Karimova", auth.Hash(offPassword))
	if err != nil {
		o.t.Fatal(err)
	}
	class, err := db.CreateClass(ctx, "", "7A", 7, teacher.ID)
	if err != nil {
		o.t.Fatal(err)
	}
	var ns []store.NewStudent
	for _, n := range names {
		ns = append(ns, store.NewStudent{Name: n, Gender: "female"})
	}
	students, err := db.AddStudents(ctx, "", class.ID, ns)
	if err != nil {
		o.t.Fatal(err)
	}
	for _, what := range []string{"set", "lesson"} {
		if err := db.Assign(ctx, "", class.ID, "mini", what, "speed"); err != nil {
			o.t.Fatal(err)
		}
	}
	return offSchool{class: class, students: students}
}

// offBrowser is one headless Chromium with a fresh profile.
type offBrowser struct {
	ctx context.Context // its first tab, in the default browser context
	out *syncBuffer
}

func offStartBrowser(t *testing.T, timeout time.Duration, extra ...chromedp.ExecAllocatorOption) *offBrowser {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	t.Cleanup(cancel)
	out := &syncBuffer{}
	allocCtx, allocCancel := chromedp.NewExecAllocator(ctx, append([]chromedp.ExecAllocatorOption{
		chromedp.ExecPath(offChromium),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("lang", "en-US"),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.CombinedOutput(out),
	}, extra...)...)
	t.Cleanup(allocCancel)
	bctx, bcancel := chromedp.NewContext(allocCtx)
	t.Cleanup(bcancel)
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("start %s: %v\n%s", offChromium, err, out.String())
	}
	t.Cleanup(func() {
		if t.Failed() {
			var keep []string
			for _, l := range strings.Split(out.String(), "\n") {
				if !strings.Contains(l, "dbus") {
					keep = append(keep, l)
				}
			}
			t.Logf("Chromium's output:\n%s", strings.Join(keep, "\n"))
		}
	})
	return &offBrowser{ctx: bctx, out: out}
}

// phone is a 360×640 touch screen.
var phone = chromedp.EmulateViewport(360, 640, chromedp.EmulateScale(2), chromedp.EmulateMobile, chromedp.EmulateTouch)

// device returns the browser's first tab as a phone: the students' shared
// device (one profile: its cookies, caches and IndexedDB).
func (br *offBrowser) device(t *testing.T, name, base string) *offTab {
	t.Helper()
	tb := &offTab{t: t, name: name, ctx: br.ctx, base: base, console: &syncBuffer{}}
	tb.listen()
	tb.do(phone)
	return tb
}

// listen keeps what the tab's pages write to the console, and their
// uncaught errors, for a failure's message.
func (tb *offTab) listen() {
	ctx, cancel := context.WithCancel(tb.ctx)
	tb.t.Cleanup(cancel)
	msgs := chromedp.Console(ctx)
	go func() {
		for m, err := range msgs {
			if err != nil {
				return
			}
			fmt.Fprintln(tb.console, m.String())
		}
	}()
}

// other opens a tab in a browser context of its own (another device).
func (br *offBrowser) other(t *testing.T, name, base string, setup chromedp.Action[chromedp.Void]) *offTab {
	t.Helper()
	ctx, cancel := chromedp.NewContext(br.ctx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	tb := &offTab{t: t, name: name, ctx: ctx, base: base, console: &syncBuffer{}}
	tb.listen()
	tb.do(setup)
	return tb
}

// offTab is one tab; its methods fail the test on any error.
type offTab struct {
	t       *testing.T
	name    string
	ctx     context.Context
	base    string      // the box's URL
	console *syncBuffer // what its pages wrote to the console
}

func (tb *offTab) fatalf(format string, args ...any) {
	tb.t.Helper()
	loc, _ := chromedp.Run(tb.ctx, chromedp.Location())
	text, _ := chromedp.Run(tb.ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
	tb.t.Fatalf("%s (on %s): %s\npage text:\n%s\nconsole:\n%s", tb.name, loc, fmt.Sprintf(format, args...), text, tb.console.String())
}

func (tb *offTab) do(steps ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	if err := chromedp.Do(tb.ctx, steps...); err != nil {
		tb.fatalf("%v", err)
	}
}

// load runs steps that load a page and waits until a page at a path
// beginning with wantPath has loaded (from the box or the service worker).
func (tb *offTab) load(wantPath string, steps ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, 30*time.Second)
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, steps...)
	if err != nil {
		tb.fatalf("loading %s: %v", wantPath, err)
	}
	if resp == nil || resp.Status != 200 {
		var status int64
		if resp != nil {
			status = resp.Status
		}
		tb.fatalf("loading %s: status %d", wantPath, status)
	}
	if p := tb.path(); !strings.HasPrefix(p, wantPath) {
		tb.fatalf("landed on %s, want %s", p, wantPath)
	}
	tb.do(chromedp.WaitVisible(chromedp.CSS(`main`)))
}

// open loads a path of the box.
func (tb *offTab) open(path string) {
	tb.t.Helper()
	u, _ := url.Parse(path)
	want := u.Path
	if n := u.Query().Get("next"); n != "" {
		want = n // through /lang/…
	}
	tb.load(want, chromedp.Navigate(tb.base+path))
}

// settle waits until the connection bar shows (the script knows whether
// the box answers): it moves the page down, and a tap must land where it
// aims.
func (tb *offTab) settle() {
	tb.t.Helper()
	tb.waitJS("the connection bar", `(function(){var c=document.getElementById("offline-conn");return !c||c.className.indexOf("unknown")<0})()`, 15*time.Second)
}

// tapTo taps a link or button that leads to another page.
func (tb *offTab) tapTo(sel, wantPath string) {
	tb.t.Helper()
	tb.settle()
	if strings.HasPrefix(sel, "//") {
		tb.do(chromedp.WaitVisible(sel))
		tb.load(wantPath, chromedp.Tap(sel))
		return
	}
	tb.do(chromedp.WaitVisible(chromedp.CSS(sel)))
	tb.load(wantPath, chromedp.Tap(chromedp.CSS(sel)))
}

func (tb *offTab) tap(sel string) {
	tb.t.Helper()
	tb.settle()
	if strings.HasPrefix(sel, "//") {
		tb.do(chromedp.WaitVisible(sel), chromedp.Tap(sel))
		return
	}
	tb.do(chromedp.WaitVisible(chromedp.CSS(sel)), chromedp.Tap(chromedp.CSS(sel)))
}

func (tb *offTab) path() string {
	tb.t.Helper()
	loc, err := chromedp.Run(tb.ctx, chromedp.Location())
	if err != nil {
		tb.t.Fatalf("%s: location: %v", tb.name, err)
	}
	u, _ := url.Parse(loc)
	return u.Path
}

func (tb *offTab) text(css string) string {
	tb.t.Helper()
	s, err := chromedp.Run(tb.ctx, chromedp.Text(chromedp.CSS(css)))
	if err != nil {
		tb.fatalf("text of %s: %v", css, err)
	}
	return strings.TrimSpace(s)
}

// js evaluates expr, awaiting it if it is a promise, into a T.
func offJS[T any](tb *offTab, expr string) T {
	tb.t.Helper()
	v, err := chromedp.Run(tb.ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		tb.fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// waitJS waits until expr (maybe a promise) is true.
func (tb *offTab) waitJS(what, expr string, timeout time.Duration) {
	tb.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, err := chromedp.Run(tb.ctx, chromedp.Evaluate[bool](expr, chromedp.EvalAwaitPromise))
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			tb.fatalf("waited %s for %s (last error %v)", timeout, what, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// connText is what the connection bar says, all lines.
func (tb *offTab) connText() string {
	tb.t.Helper()
	return offJS[string](tb, `(function(){var c=document.getElementById("offline-conn");return c?c.innerText.replace(/\s+/g," ").trim():""})()`)
}

func (tb *offTab) waitConn(want string, timeout time.Duration) {
	tb.t.Helper()
	tb.waitJS(fmt.Sprintf("the connection bar to say %q", want),
		fmt.Sprintf(`(function(){var c=document.getElementById("offline-conn");return !!c&&c.innerText.replace(/\s+/g," ").indexOf(%q)>=0})()`, want), timeout)
}

// noSideScroll fails the test when the page is wider than the phone.
func (tb *offTab) noSideScroll(page string) {
	tb.t.Helper()
	w := offJS[[2]int](tb, `[document.documentElement.scrollWidth, document.documentElement.clientWidth]`)
	if w[0] > 360 || w[0] > w[1] {
		tb.t.Errorf("%s: the %s scrolls sideways on a 360 px phone: scrollWidth %d, clientWidth %d", tb.name, page, w[0], w[1])
	}
}

// queued reads the answers kept on the device.
type queuedAnswer struct {
	ID, Learner, Pack, Set, Item, State, Text string
	N                                         int
	Choices                                   []int
	Verdict                                   *struct {
		Correct bool
		Score   float64
	}
}

func (tb *offTab) queue() []queuedAnswer {
	tb.t.Helper()
	raw := offJS[[]byte](tb, `new Promise(function(resolve, reject) {
		var r = indexedDB.open("stembox-offline", 1);
		r.onupgradeneeded = function() { r.result.createObjectStore("answers", {keyPath: "id"}).createIndex("learner", "learner"); };
		r.onerror = function() { reject(r.error); };
		r.onsuccess = function() {
			var q = r.result.transaction("answers", "readonly").objectStore("answers").getAll();
			q.onsuccess = function() { resolve(q.result); };
			q.onerror = function() { reject(q.error); };
		};
	})`)
	var out []queuedAnswer
	if err := json.Unmarshal(raw, &out); err != nil {
		tb.fatalf("queue %s: %v", raw, err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// controlled waits until a service worker controls the page and has kept
// the given paths.
func (tb *offTab) controlled(paths ...string) {
	tb.t.Helper()
	tb.waitJS("a service worker to control the page", `!!navigator.serviceWorker && !!navigator.serviceWorker.controller`, 20*time.Second)
	for _, p := range paths {
		tb.waitJS("the service worker to keep "+p, fmt.Sprintf(`caches.match(%q).then(function(r){return !!r})`, p), 20*time.Second)
	}
}

// offShooter saves full-page screenshots, numbered in the order taken.
type offShooter struct {
	t   *testing.T
	dir string
	mu  sync.Mutex
	n   int
}

func newOffShooter(t *testing.T, test string) *offShooter {
	dir := os.Getenv("STEMBOX_ARTIFACTS")
	if dir == "" {
		dir = t.TempDir()
	} else {
		dir = filepath.Join(dir, "offline", test)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	s := &offShooter{t: t, dir: dir}
	t.Cleanup(func() { t.Logf("%d screenshots in %s", s.n, s.dir) })
	return s
}

func (s *offShooter) take(tb *offTab, name string) {
	s.t.Helper()
	png, err := chromedp.Run(tb.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		tb.fatalf("screenshot %s: %v", name, err)
	}
	if !bytes.HasPrefix(png, []byte("\x89PNG")) {
		s.t.Fatalf("screenshot %s is not a PNG", name)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.n++
	if err := os.WriteFile(filepath.Join(s.dir, fmt.Sprintf("%02d-%s.png", s.n, name)), png, 0o644); err != nil {
		s.t.Fatal(err)
	}
}

// signIn signs a student in on the shared device, tapping her name.
func (tb *offTab) signIn(code, name string) {
	tb.t.Helper()
	tb.open(fmt.Sprintf("/lang/en?next=/student/%s", code))
	tb.tapTo(fmt.Sprintf(`//button[contains(@class,"tile") and normalize-space()=%q]`, name), "/me")
}

func (tb *offTab) signOut(code string) {
	tb.t.Helper()
	tb.tapTo(`form.who button[type=submit]`, "/student/"+code)
}

// answerOffline answers the question on the page and waits until it is
// kept on the device.
func (tb *offTab) answerOffline(n int, pick func()) {
	tb.t.Helper()
	pick()
	tb.tap(`form.exercise button[type=submit]`)
	tb.waitJS("the answer to be kept", `!!document.querySelector("section.verdict.queued")`, 20*time.Second)
	if p := tb.path(); p != fmt.Sprintf("/packs/mini/sets/speed/%d", n) {
		tb.fatalf("after answering question %d the phone is on %s", n, p)
	}
}

// blockAnswers makes the box unreachable for the answer API and the
// script's check (the pages still load), until the returned func is called.
func (tb *offTab) blockAnswers() (unblock func()) {
	tb.t.Helper()
	ctx, cancel := context.WithCancel(tb.ctx)
	paused := chromedp.Events(ctx, fetch.RequestPaused)
	if _, err := chromedp.Call(tb.ctx, fetch.Enable, fetch.EnableParams{Patterns: []*fetch.RequestPattern{
		{URLPattern: "*/api/v1/answers*"}, {URLPattern: "*/offline/me*"},
	}}); err != nil {
		tb.fatalf("block: %v", err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ev, err := range paused {
			if err != nil {
				return
			}
			_, err := chromedp.Call(tb.ctx, fetch.FailRequest, fetch.FailRequestParams{RequestID: ev.RequestID, ErrorReason: network.ErrorReasonConnectionRefused})
			tb.t.Logf("blocked %s %s: %v", ev.Request.Method, ev.Request.URL, err)
		}
	}()
	return func() {
		chromedp.Call(tb.ctx, fetch.Disable, cdp.Empty{})
		cancel()
		<-done
	}
}

// TestOfflineLessonAndQueuedAnswers is the story: a student opens a
// lesson; the box goes away; she reloads the lesson (the service worker
// shows it), answers three questions (kept on the phone, "3 waiting"); the
// box comes back; the three answers arrive once each, and the teacher sees
// them.
func TestOfflineLessonAndQueuedAnswers(t *testing.T) {
	offSkip(t)
	start := time.Now()
	ob := newOffBox(t)
	sc := ob.school("Zarina Rahimova")
	shots := newOffShooter(t, "lesson-and-answers")
	br := offStartBrowser(t, 3*time.Minute)
	st := br.device(t, "student", ob.url(""))

	// Online: she signs in; her page offers to save the pack of her work.
	st.signIn(sc.class.Code, "Zarina Rahimova")
	st.waitJS("the offer to save her work", `!!document.querySelector('[data-offline-pack="mini"] button')`, 20*time.Second)
	if offer := st.text(`[data-offline-pack="mini"]`); !strings.Contains(offer, "Mini pack") || !strings.Contains(offer, "about 38 KB") {
		t.Errorf("her page's offer to save reads %q", offer)
	}
	st.noSideScroll("student's page")
	shots.take(st, "home-online")
	// She opens the assigned lesson.
	st.open("/packs/mini/lessons/speed")
	st.controlled("/packs/mini/lessons/speed", "/packs/mini/sets/speed", "/packs/mini/sets/speed/3")
	st.waitConn("Connected to the box.", 10*time.Second)
	st.noSideScroll("lesson")
	shots.take(st, "lesson-online")
	learner := offJS[string](st, `document.getElementById("offline-conn").getAttribute("data-learner")`)
	if len(learner) != 24 {
		t.Fatalf("the lesson made for her carries the learner key %q", learner)
	}

	// The box goes away; she reloads the lesson.
	ob.stop()
	st.load("/packs/mini/lessons/speed", chromedp.Reload())
	if h1 := st.text(`main h1`); h1 != "Speed" {
		t.Errorf("the lesson reloaded offline is titled %q", h1)
	}
	if body := st.text(`article.lesson`); !strings.Contains(body, "Speed is distance divided by time") {
		t.Errorf("the lesson reloaded offline reads %q", body)
	}
	st.waitConn("No connection to the box.", 10*time.Second)
	st.noSideScroll("lesson offline")
	shots.take(st, "lesson-offline")

	// She practises: the set and its questions were kept with the lesson.
	st.tapTo(`form.cta a.button.secondary`, "/packs/mini/sets/speed")
	st.noSideScroll("set offline")
	st.tapTo(`p.cta a.button`, "/packs/mini/sets/speed/1")
	st.answerOffline(1, func() { st.tap(`//label[contains(@class,"choice")][span[normalize-space()="60 km/h"]]/input`) })
	st.waitConn("(1 waiting)", 5*time.Second)
	st.noSideScroll("question 1 kept")
	shots.take(st, "q1-kept")
	st.tapTo(`section.verdict.queued a.button`, "/packs/mini/sets/speed/2")
	st.answerOffline(2, func() {
		st.tap(`//label[contains(@class,"choice")][span[normalize-space()="m/s"]]/input`)
		st.tap(`//label[contains(@class,"choice")][span[normalize-space()="km/h"]]/input`)
	})
	st.tapTo(`section.verdict.queued a.button`, "/packs/mini/sets/speed/3")
	st.answerOffline(3, func() { st.tap(`input[name=text][value=false]`) })
	st.waitConn("Saved on this device — will send when connected (3 waiting)", 5*time.Second)
	st.noSideScroll("question 3 kept")
	shots.take(st, "three-waiting")
	kept := st.queue()
	if len(kept) != 3 {
		t.Fatalf("the phone keeps %d answers, want 3: %+v", len(kept), kept)
	}
	for i, a := range kept {
		if a.State != "waiting" || a.Learner != learner || a.N != i+1 || !store.ValidID(a.ID) {
			t.Errorf("kept answer %d = %+v, want question %d waiting under %s with a ULID", i+1, a, i+1, learner)
		}
	}

	// The box comes back (same address, same data): the answers go.
	ob.start()
	st.waitConn("Answers sent to the box: 3.", 40*time.Second)
	st.do(chromedp.WaitVisible(chromedp.CSS(`section.verdict.right`)))
	if h := st.text(`section.verdict h2`); h != "Correct!" {
		t.Errorf("the verdict that arrived for question 3 reads %q", h)
	}
	st.noSideScroll("verdict arrived")
	shots.take(st, "sent-and-checked")
	evs := ob.answers()
	checkOnce(t, evs, kept, "student:"+sc.students[0].ID)

	// A resend (a lost reply, a second tab) changes nothing.
	offJS[bool](st, `new Promise(function(resolve) {
		var r = indexedDB.open("stembox-offline", 1);
		r.onsuccess = function() {
			var tx = r.result.transaction("answers", "readwrite"), os = tx.objectStore("answers");
			os.getAll().onsuccess = function(e) { e.target.result.forEach(function(a) { a.state = "waiting"; os.put(a); }); };
			tx.oncomplete = function() { resolve(true); };
		};
	})`)
	st.load("/packs/mini/sets/speed", chromedp.Reload())
	st.waitConn("Answers sent to the box: 3.", 30*time.Second)
	checkOnce(t, ob.answers(), kept, "student:"+sc.students[0].ID)

	// The teacher's heatmap shows her work: 3 of 5 right.
	teacher := br.other(t, "teacher", ob.url(""), chromedp.EmulateViewport(1280, 900))
	teacher.open("/login")
	teacher.do(
		chromedp.SendKeys(chromedp.CSS(`input[name=username]`), "aziza"),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), offPassword),
	)
	teacher.tapTo(`form[action="/login"] button[type=submit]`, "/teach")
	teacher.open("/teach/classes/" + sc.class.ID + "/progress")
	cells := offJS[[]string](teacher, `Array.from(document.querySelectorAll("table.heatmap tbody tr td"), function(td){return td.className+" "+td.textContent.trim()})`)
	if len(cells) != 2 || !strings.HasPrefix(cells[0], "cell started ") || !strings.HasSuffix(cells[0], "%") {
		t.Errorf("the heatmap's cells for Zarina are %q, want the set started", cells)
	}
	shots.take(teacher, "teacher-heatmap")
	teacher.open("/teach/classes/" + sc.class.ID + "/sets/mini/speed")
	shots.take(teacher, "teacher-items")
	t.Logf("offline lesson and queued answers: %s", time.Since(start).Round(time.Millisecond))
}

// checkOnce checks that the box holds each kept answer exactly once, under
// the id the phone made, as the learner's.
func checkOnce(t *testing.T, evs []store.Event, kept []queuedAnswer, actor string) {
	t.Helper()
	byID := map[string]int{}
	for _, ev := range evs {
		byID[ev.ID]++
		if ev.Actor != actor {
			t.Errorf("answer %s is stored as %s's, want %s", ev.ID, ev.Actor, actor)
		}
	}
	if len(evs) != len(kept) {
		t.Errorf("the box holds %d answers, want %d", len(evs), len(kept))
	}
	for _, a := range kept {
		if byID[a.ID] != 1 {
			t.Errorf("answer %s (question %d) is stored %d times, want once", a.ID, a.N, byID[a.ID])
		}
	}
}

// TestOfflineTwoStudentsOneDevice: answers kept on a shared phone stay with
// the student who gave them, and go only under her name.
func TestOfflineTwoStudentsOneDevice(t *testing.T) {
	offSkip(t)
	ob := newOffBox(t)
	sc := ob.school("Nigina", "Sino")
	shots := newOffShooter(t, "two-students")
	br := offStartBrowser(t, 3*time.Minute)
	dev := br.device(t, "shared phone", ob.url(""))

	// Nigina answers while the box's answers cannot get through.
	dev.signIn(sc.class.Code, "Nigina")
	dev.open("/packs/mini/sets/speed/1")
	nigina := offJS[string](dev, `document.getElementById("offline-conn").getAttribute("data-learner")`)
	unblock := dev.blockAnswers()
	dev.answerOffline(1, func() { dev.tap(`//label[contains(@class,"choice")][span[normalize-space()="60 km/h"]]/input`) })
	dev.waitConn("(1 waiting)", 10*time.Second)
	shots.take(dev, "nigina-kept")

	// "Not me?": Sino takes the phone. She sees no waiting answers.
	dev.signOut(sc.class.Code)
	dev.tapTo(`//button[contains(@class,"tile") and normalize-space()="Sino"]`, "/me")
	sino := offJS[string](dev, `document.getElementById("offline-conn").getAttribute("data-learner")`)
	if sino == "" || sino == nigina {
		t.Fatalf("learner keys: Nigina %q, Sino %q; want two different keys", nigina, sino)
	}
	dev.waitConn("No connection to the box.", 15*time.Second)
	if c := dev.connText(); strings.Contains(c, "waiting") {
		t.Errorf("Sino's page shows Nigina's waiting answer: %q", c)
	}
	shots.take(dev, "sino-sees-none")
	dev.open("/packs/mini/sets/speed/2")
	if c := dev.connText(); strings.Contains(c, "waiting") {
		t.Errorf("Sino's question shows Nigina's waiting answer: %q", c)
	}
	dev.answerOffline(2, func() { dev.tap(`//label[contains(@class,"choice")][span[normalize-space()="kg"]]/input`) })
	dev.waitConn("(1 waiting)", 10*time.Second)
	shots.take(dev, "sino-kept")
	q := dev.queue()
	if len(q) != 2 || q[0].Learner != nigina || q[1].Learner != sino {
		t.Fatalf("the phone keeps %+v, want Nigina's answer then Sino's", q)
	}

	// The box is reachable again: only Sino's answer goes, under her name.
	unblock()
	dev.waitConn("Answers sent to the box: 1.", 30*time.Second)
	shots.take(dev, "sino-sent")
	evs := ob.answers()
	if len(evs) != 1 || evs[0].ID != q[1].ID || evs[0].Actor != "student:"+sc.students[1].ID {
		t.Fatalf("after Sino's page sent its queue the box holds %+v, want only Sino's answer %s", evs, q[1].ID)
	}
	if left := dev.queue(); left[0].State != "waiting" {
		t.Errorf("Nigina's answer was touched while Sino was signed in: %+v", left[0])
	}

	// Nigina signs in again: hers goes, under her name.
	dev.signOut(sc.class.Code)
	dev.tapTo(`//button[contains(@class,"tile") and normalize-space()="Nigina"]`, "/me")
	dev.waitConn("Answers sent to the box: 1.", 30*time.Second)
	shots.take(dev, "nigina-sent")
	evs = ob.answers()
	if len(evs) != 2 || evs[1].ID != q[0].ID || evs[1].Actor != "student:"+sc.students[0].ID {
		t.Fatalf("the box holds %+v, want Sino's answer, then Nigina's %s as hers", evs, q[0].ID)
	}
}

// TestOfflinePackUpdate: a pack saved for offline reading follows the pack
// when the box gets a new version of it.
func TestOfflinePackUpdate(t *testing.T) {
	offSkip(t)
	ob := newOffBox(t)
	shots := newOffShooter(t, "pack-update")
	br := offStartBrowser(t, 3*time.Minute)
	dev := br.device(t, "guest", ob.url(""))

	dev.open("/lang/en?next=/packs/mini/lessons/speed")
	dev.controlled("/packs/mini/lessons/speed")
	dev.do(chromedp.WaitVisible(chromedp.CSS(`[data-offline-save] button`)))
	intro := dev.text(`[data-offline-save] p`)
	if !strings.Contains(intro, "save them and their exercises on this device (about 38 KB)") {
		t.Errorf("the save control reads %q", intro)
	}
	shots.take(dev, "save-offered")
	dev.tap(`[data-offline-save] button`)
	dev.waitJS("the pack to be saved", `(function(){var b=document.querySelector("[data-offline-save]");return !!b&&b.innerText.indexOf("Saved on this device for reading offline")>=0})()`, 30*time.Second)
	saved := dev.text(`[data-offline-save]`)
	if !strings.Contains(saved, "Remove from this device") || !strings.Contains(saved, "stembox keeps") {
		t.Errorf("after saving, the control reads %q", saved)
	}
	dev.noSideScroll("lesson with the pack saved")
	shots.take(dev, "saved")
	oldName := packName(t, ob)
	caches := offJS[[]string](dev, `caches.keys()`)
	if !containsPrefix(caches, "stembox-pack-mini@"+oldName+"@en@") {
		t.Fatalf("caches %v: none for mini version %s", caches, oldName)
	}

	// A new version of the pack reaches the box (built from changed source).
	ob.stop()
	src := filepath.Join(ob.packs, "mini")
	for _, f := range []string{"lessons/speed.en.md", "lessons/force.en.md"} {
		b, err := os.ReadFile(filepath.Join(src, f))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(src, f), append(b, "\n\nRevised in version 1.1.0 of the pack.\n"...), 0o644)
	}
	yml, _ := os.ReadFile(filepath.Join(src, "pack.yaml"))
	os.WriteFile(filepath.Join(src, "pack.yaml"), bytes.Replace(yml, []byte("version: 1.0.0"), []byte("version: 1.1.0"), 1), 0o644)
	ob.start()
	newName := packName(t, ob)
	if newName == oldName || !strings.HasPrefix(newName, "1.1.0-") {
		t.Fatalf("after the update the box serves mini %s (was %s)", newName, oldName)
	}

	// The student opens a lesson: the saved copy moves to the new version,
	// and the old one is gone.
	dev.open("/packs/mini/lessons/speed")
	dev.waitJS("the saved copy to move to "+newName, fmt.Sprintf(`caches.keys().then(function(ks){
		var now = ks.filter(function(k){return k.indexOf("stembox-pack-mini@")===0});
		return now.length===1 && now[0].indexOf("stembox-pack-mini@%s@")===0 })`, newName), 40*time.Second)
	dev.waitJS("the new copy to hold the other lesson", `caches.match("/packs/mini/lessons/force").then(function(r){return r?r.text():""}).then(function(t){return t.indexOf("Revised in version 1.1.0")>=0})`, 30*time.Second)
	shots.take(dev, "updated-online")

	// Offline, the lesson she never opened since the update is the new one.
	ob.stop()
	dev.open("/packs/mini/lessons/force")
	if body := dev.text(`article.lesson`); !strings.Contains(body, "Revised in version 1.1.0") {
		t.Errorf("offline, the saved lesson reads %q; want the new version", body)
	}
	dev.waitConn("No connection to the box.", 10*time.Second)
	shots.take(dev, "updated-offline")
	// A page that was never kept says so, in the page's language.
	dev.open("/teach")
	if h1 := dev.text(`main h1`); h1 != "Not on this device" {
		t.Errorf("an unsaved page offline is titled %q", h1)
	}
	dev.waitJS("the offline page to list what the device keeps", `document.querySelectorAll(".offline-packs a").length > 0`, 10*time.Second)
	if list := dev.text(`.offline-packs`); !strings.Contains(list, "Speed") || !strings.Contains(list, "Force") {
		t.Errorf("the offline page lists %q, want the saved lessons", list)
	}
	dev.noSideScroll("offline page")
	shots.take(dev, "offline-page")
}

func packName(t *testing.T, ob *offBox) string {
	t.Helper()
	ob.mu.Lock()
	defer ob.mu.Unlock()
	p, ok := ob.b.Library().Pack("mini")
	if !ok {
		t.Fatal("no pack mini")
	}
	return p.Name
}

func containsPrefix(xs []string, prefix string) bool {
	for _, x := range xs {
		if strings.HasPrefix(x, prefix) {
			return true
		}
	}
	return false
}

// TestOfflineWithoutServiceWorker: on the school's LAN the box is reached
// over plain http at an address that is not localhost, where browsers
// register no service worker. An exercise page that stays open still keeps
// its answer while the box is away and sends it when it is back; without
// JavaScript at all, the box's own form and verdict page work.
func TestOfflineWithoutServiceWorker(t *testing.T) {
	offSkip(t)
	ob := newOffBox(t)
	shots := newOffShooter(t, "no-service-worker")
	_, port, _ := net.SplitHostPort(ob.addr)
	base := "http://stembox.test:" + port // a LAN name: not a secure context
	br := offStartBrowser(t, 2*time.Minute, chromedp.Flag("host-resolver-rules", "MAP stembox.test 127.0.0.1"))
	dev := br.device(t, "phone on the LAN", base)

	dev.open("/lang/en?next=/packs/mini/sets/speed/4")
	if v := offJS[[2]bool](dev, `[window.isSecureContext, "serviceWorker" in navigator]`); v[0] || v[1] {
		t.Fatalf("on %s: secure context %v, service workers %v; want neither", base, v[0], v[1])
	}
	dev.waitConn("Connected to the box.", 10*time.Second)
	ob.stop()
	dev.answerOffline(4, func() { dev.do(chromedp.SendKeys(chromedp.CSS(`form.exercise input[name=text]`), "5")) })
	dev.waitConn("(1 waiting)", 10*time.Second)
	if n := offJS[int](dev, `document.querySelectorAll("[data-offline-save] button").length`); n != 0 {
		t.Errorf("without a service worker the page offers to save %d packs", n)
	}
	shots.take(dev, "kept-without-worker")
	kept := dev.queue()
	ob.start()
	dev.waitConn("Answers sent to the box: 1.", 40*time.Second)
	dev.do(chromedp.WaitVisible(chromedp.CSS(`section.verdict.right`)))
	shots.take(dev, "sent-without-worker")
	if evs := ob.answers(); len(evs) != 1 || len(kept) != 1 || evs[0].ID != kept[0].ID {
		t.Fatalf("the box holds %+v, want the kept answer %+v once", evs, kept)
	}

	// No JavaScript: the bar does not show, the form posts, the box answers.
	nojs := br.other(t, "no JavaScript", base, phone)
	if _, err := chromedp.Call(nojs.ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
		t.Fatal(err)
	}
	nojs.open("/lang/en?next=/packs/mini/sets/speed/5")
	if d := offJS[string](nojs, `getComputedStyle(document.getElementById("offline-conn")).display`); d != "none" {
		t.Errorf("without JavaScript the connection bar shows (display %q)", d)
	}
	nojs.do(chromedp.SendKeys(chromedp.CSS(`form.exercise input[name=text]`), "speed"))
	nojs.load("/packs/mini/sets/speed/5", chromedp.Tap(chromedp.CSS(`form.exercise button[type=submit]`)))
	nojs.do(chromedp.WaitVisible(chromedp.CSS(`section.verdict.right`)))
	nojs.noSideScroll("verdict without JavaScript")
	shots.take(nojs, "form-without-javascript")
	if evs := ob.answers(); len(evs) != 2 {
		t.Errorf("after the plain form the box holds %d answers, want 2", len(evs))
	}
}
