package box_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/mitstem/stembox/internal/auth"
	"github.com/mitstem/stembox/internal/box"
	"github.com/mitstem/stembox/internal/browsertest"
	"github.com/mitstem/stembox/internal/content/contenttest"
	"github.com/mitstem/stembox/internal/event"
	"github.com/mitstem/stembox/internal/logtest"
	"github.com/mitstem/stembox/internal/school"
	"github.com/mitstem/stembox/internal/store"
)

// The browser tests of working offline (docs/offline.md) drive Debian's
// Chromium against a real box that they stop and start again on the same
// address. Their helpers are named off… so that they stay apart from the
// other browser tests of this package.

func offSkip(t *testing.T) {
	t.Helper()
	browsertest.Need(t)
}

// offBox is a box on a fixed loopback address, so that it can be stopped
// (a power cut, a Wi-Fi drop) and started again where the browser expects it.
type offBox struct {
	t           *testing.T
	data, packs string
	addr        string
	logs        *logtest.Buffer

	mu     sync.Mutex
	b      *box.Box
	cancel context.CancelFunc
	done   chan error
}

func newOffBox(t *testing.T) *offBox {
	t.Helper()
	o := newOffBoxStopped(t)
	o.start()
	t.Cleanup(o.stop)
	return o
}

// newOffBoxStopped is newOffBox before it starts: a test may change the
// packs, then start it.
func newOffBoxStopped(t *testing.T) *offBox {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	o := &offBox{t: t, data: t.TempDir(), packs: t.TempDir(), addr: addr, logs: &logtest.Buffer{}}
	contenttest.CopyTree(t, contenttest.MiniDir(), filepath.Join(o.packs, "mini"))
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
func (o *offBox) answers() []event.Event {
	o.t.Helper()
	evs, err := o.db().EventsAfter(context.Background(), 0, 10000)
	if err != nil {
		o.t.Fatal(err)
	}
	var out []event.Event
	for _, ev := range evs {
		if ev.Kind == event.KindAnswerSubmitted {
			out = append(out, ev)
		}
	}
	return out
}

// offSchool is a teacher, a class with students, and the set "speed" and
// lesson "speed" of the mini pack assigned to it.
type offSchool struct {
	class    school.Class
	students []school.Student
}

const offPassword = "chalk-and-slate-7"

func (o *offBox) school(names ...string) offSchool {
	o.t.Helper()
	ctx := context.Background()
	db := o.db()
	teacher, err := db.CreateUser(ctx, "", school.RoleTeacher, "aziza", "Aziza Karimova", auth.Hash(offPassword))
	if err != nil {
		o.t.Fatal(err)
	}
	class, err := db.CreateClass(ctx, "", "7A", 7, teacher.ID)
	if err != nil {
		o.t.Fatal(err)
	}
	var ns []school.NewStudent
	for _, n := range names {
		ns = append(ns, school.NewStudent{Name: n, Gender: "female"})
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
	out *logtest.Buffer
}

func offStartBrowser(t *testing.T, timeout time.Duration, extra ...chromedp.ExecAllocatorOption) *offBrowser {
	t.Helper()
	b := browsertest.Start(t, timeout, extra...)
	return &offBrowser{ctx: b.Ctx, out: b.Output}
}

// phone is a 360×640 touch screen.
var phone = chromedp.EmulateViewport(360, 640, chromedp.EmulateScale(2), chromedp.EmulateMobile, chromedp.EmulateTouch)

// device returns the browser's first tab as a phone: the students' shared
// device (one profile: its cookies, caches and IndexedDB).
func (br *offBrowser) device(t *testing.T, name, base string) *offTab {
	t.Helper()
	tb := &offTab{t: t, name: name, ctx: br.ctx, base: base, console: &logtest.Buffer{}}
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
	tb := &offTab{t: t, name: name, ctx: ctx, base: base, console: &logtest.Buffer{}}
	tb.listen()
	tb.do(setup)
	return tb
}

// teacher opens a tab on a desktop screen of its own (the teacher's
// laptop) and signs the school's teacher in.
func (br *offBrowser) teacher(t *testing.T, base string) *offTab {
	t.Helper()
	tb := br.other(t, "teacher", base, chromedp.EmulateViewport(1280, 900))
	tb.open("/login")
	tb.do(
		chromedp.SendKeys(chromedp.CSS(`input[name=username]`), "aziza"),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), offPassword),
	)
	tb.tapTo(`form[action="/login"] button[type=submit]`, "/teach")
	return tb
}

// offTab is one tab; its methods fail the test on any error.
type offTab struct {
	t       *testing.T
	name    string
	ctx     context.Context
	base    string          // the box's URL
	console *logtest.Buffer // what its pages wrote to the console
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
type offShooter struct{ *browsertest.Shots }

func newOffShooter(t *testing.T, test string) *offShooter {
	return &offShooter{browsertest.NewShots(t, filepath.Join("offline", test), "")}
}

func (s *offShooter) take(tb *offTab, name string) {
	tb.t.Helper()
	if err := s.Take(tb.ctx, name); err != nil {
		tb.fatalf("%v", err)
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
