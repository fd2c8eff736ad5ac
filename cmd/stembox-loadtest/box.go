package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime/pprof"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gorilla/websocket"
	"github.com/oklog/ulid/v2"

	"github.com/mitstem/stembox/internal/box"
	"github.com/mitstem/stembox/internal/ops"
	"github.com/mitstem/stembox/internal/store"
)

// serveBox runs a real box, as `stembox serve` does, on addr with its data
// in dir, until it is told to stop. mDNS is off: the load stays on loopback.
func serveBox(addr, dir string) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	if f := os.Getenv("STEMBOX_LOADTEST_CPUPROFILE"); f != "" {
		// For finding out where the box spends its time under load.
		if out, err := os.Create(f); err == nil {
			pprof.StartCPUProfile(out)
			defer pprof.StopCPUProfile()
		}
	}
	ops.ApplyGCPolicy() // as stembox serve does
	b, err := box.Open(ctx, box.Config{Addr: addr, DataDir: dir, Lang: "en"}, logger)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	err = b.Run(ctx)
	if f := os.Getenv("STEMBOX_LOADTEST_ALLOCPROFILE"); f != "" {
		if out, perr := os.Create(f); perr == nil {
			pprof.Lookup("allocs").WriteTo(out, 0)
			out.Close()
		}
	}
	b.Close()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func questionText(q int) string {
	return fmt.Sprintf("Question %d: what is 2 + 2? Pick the right answer.", q+1)
}

// noRedirect is a client that shows redirects instead of following them.
var noRedirect = &http.Client{
	Timeout:       60 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	Transport:     &http.Transport{MaxIdleConnsPerHost: 200},
}

func cookie(resp *http.Response, name string) string {
	for _, c := range resp.Cookies() {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

// signInTeacher sets up the fresh box's first account, as a school's
// teacher would on the setup page, and returns a client signed in as it and
// the CSRF token its forms carry.
func signInTeacher(base string) (*http.Client, string, error) {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: noRedirect.Timeout, CheckRedirect: noRedirect.CheckRedirect}
	resp, err := c.PostForm(base+"/setup", url.Values{"username": {"teacher"}, "name": {"Load Test Teacher"},
		"password": {"load-test-password"}, "password2": {"load-test-password"}})
	if err != nil {
		return nil, "", err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		return nil, "", fmt.Errorf("set up the teacher's account: %s", resp.Status)
	}
	resp, err = c.Get(base + "/live/new")
	if err != nil {
		return nil, "", err
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindSubmatch(page)
	if resp.StatusCode != http.StatusOK || m == nil {
		return nil, "", fmt.Errorf("the new-session page: %s, no CSRF token", resp.Status)
	}
	return c, string(m[1]), nil
}

// createSession makes an ad-hoc session of n choice questions through the
// teacher's form, signed in, and returns its code and the teacher's secret.
func createSession(base string, n int, timer time.Duration) (code, token string, err error) {
	teacher, csrf, err := signInTeacher(base)
	if err != nil {
		return "", "", err
	}
	form := url.Values{"title": {"Load test"}, "source": {"adhoc"}, "timer": {fmt.Sprint(int(timer.Seconds()))},
		"points": {"1"}, "on_devices": {"1"}, "late_join": {"1"}, "csrf": {csrf}}
	for q := 1; q <= n; q++ {
		p := fmt.Sprintf("q%d_", q)
		form.Set(p+"kind", "choice")
		form.Set(p+"prompt", questionText(q-1))
		form.Set(p+"choices", "3\n*4\n5\n22")
	}
	resp, err := teacher.PostForm(base+"/live/new", form)
	if err != nil {
		return "", "", err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	u, err := url.Parse(loc)
	if resp.StatusCode != http.StatusSeeOther || err != nil {
		return "", "", fmt.Errorf("create session: %s %q", resp.Status, loc)
	}
	parts := strings.Split(strings.Trim(u.Path, "/"), "/") // live CODE control
	if len(parts) != 3 {
		return "", "", fmt.Errorf("create session: unexpected control link %q", loc)
	}
	return parts[1], u.Query().Get("k"), nil
}

// joinAll joins n students through the join form and returns the secret
// each device got.
func joinAll(ctx context.Context, cfg config, base, code string) ([]string, error) {
	tokens := make([]string, cfg.students)
	sem := make(chan struct{}, cfg.dialers)
	var wg sync.WaitGroup
	var firstErr atomic.Value
	for i := range tokens {
		sem <- struct{}{}
		wg.Add(1)
		go func(i int) {
			defer func() { <-sem; wg.Done() }()
			resp, err := noRedirect.PostForm(base+"/live/join", url.Values{"code": {code}, "nickname": {fmt.Sprintf("Student %d", i+1)}})
			if err != nil {
				firstErr.CompareAndSwap(nil, err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if tokens[i] = cookie(resp, "stembox_live_p_"+code); tokens[i] == "" {
				firstErr.CompareAndSwap(nil, fmt.Errorf("join of student %d: %s", i+1, resp.Status))
			}
		}(i)
	}
	wg.Wait()
	if err, ok := firstErr.Load().(error); ok {
		return nil, err
	}
	return tokens, ctx.Err()
}

var (
	idMu      sync.Mutex
	idEntropy = ulid.Monotonic(rand.Reader, 0)
)

// newID makes an answer id as the browser does: a ULID.
func newID() string {
	idMu.Lock()
	defer idMu.Unlock()
	return ulid.MustNew(ulid.Now(), idEntropy).String()
}

// sentAnswer is an answer a student sent.
type sentAnswer struct {
	s    *student
	q    int
	id   string
	sent time.Time
}

// boxRun is stembox under load.
type boxRun struct {
	srv         *server
	code, token string
	students    []*student
	tws         *websocket.Conn
	teacher     *student
	mu          sync.Mutex
	sent        []sentAnswer
	ackSpan     time.Duration
	res         result
}

// setup starts a box, makes a session, and joins and connects the students,
// each of whom will answer every question at a random moment of the window.
func (b *boxRun) setup(ctx context.Context, cfg config) error {
	var err error
	if b.srv, err = startServer(ctx, "serve-box"); err != nil {
		return err
	}
	base := "http://" + b.srv.addr
	if b.code, b.token, err = createSession(base, cfg.questions, 30*time.Second); err != nil {
		return err
	}
	time.Sleep(200 * time.Millisecond)
	b.res.idleRSS = b.srv.rss()
	start := time.Now()
	tokens, err := joinAll(ctx, cfg, base, b.code)
	if err != nil {
		return err
	}
	fmt.Printf("stembox: %d students joined in %v\n", len(tokens), time.Since(start).Round(time.Millisecond))
	wsURL := "ws://" + b.srv.addr + "/live/" + b.code + "/ws"
	start = time.Now()
	b.students, err = dialAll(ctx, cfg, func(i int) (string, http.Header) {
		return wsURL + "?role=student", http.Header{"Cookie": {"stembox_live_p_" + b.code + "=" + tokens[i]}}
	})
	if err != nil {
		return err
	}
	fmt.Printf("stembox: %d students connected in %v\n", len(b.students), time.Since(start).Round(time.Millisecond))
	b.res.connected = len(b.students)
	time.Sleep(time.Second)
	b.res.connectedRSS = b.srv.rss()
	if b.tws, _, err = websocket.DefaultDialer.DialContext(ctx, wsURL+"?role=teacher", http.Header{"Cookie": {"stembox_live_t_" + b.code + "=" + b.token}}); err != nil {
		return err
	}
	b.teacher = newStudent(b.tws)
	for _, s := range b.students {
		s.onQuestion = func(q int) {
			delay := cfg.reading + time.Duration(mrand.Int64N(int64(cfg.window)))
			time.AfterFunc(delay, func() {
				id := newID()
				t := time.Now()
				if err := s.write(map[string]any{"type": "answer", "session": b.code, "q": q, "id": id, "choices": []int{1 + q%3}}); err != nil {
					return
				}
				b.mu.Lock()
				b.sent = append(b.sent, sentAnswer{s: s, q: q, id: id, sent: t})
				b.mu.Unlock()
			})
		}
	}
	return nil
}

func (b *boxRun) command(cmd string, q int) error {
	return b.teacher.write(map[string]any{"type": cmd, "q": q})
}

// question asks question q, measures its fan-out, waits for every answer's
// acknowledgement, then closes and reveals it.
func (b *boxRun) question(ctx context.Context, cfg config, q int) error {
	cmd := "next"
	if q == 0 {
		cmd = "start"
	}
	lat, err := fanout(ctx, cfg, b.students, q, func() error { return b.command(cmd, q-1) })
	if err != nil {
		return err
	}
	b.res.fanout = append(b.res.fanout, lat...)
	ofQ := func() []sentAnswer {
		b.mu.Lock()
		defer b.mu.Unlock()
		var out []sentAnswer
		for _, a := range b.sent {
			if a.q == q {
				out = append(out, a)
			}
		}
		return out
	}
	deadline := time.Now().Add(cfg.reading + cfg.window + cfg.timeout)
	var qs []sentAnswer
	var n int
	var last int64
	for {
		time.Sleep(20 * time.Millisecond)
		qs = ofQ()
		n, last = 0, 0
		for _, a := range qs {
			if v, ok := a.s.acks.Load(a.id); ok {
				n++
				last = max(last, v.(int64))
			}
		}
		if len(qs) >= len(b.students) && n == len(qs) {
			break
		}
		if time.Now().After(deadline) {
			fmt.Printf("stembox: question %d: %d answers sent, %d acknowledged in time\n", q, len(qs), n)
			break
		}
	}
	var firstSent time.Time
	for i, a := range qs {
		if i == 0 || a.sent.Before(firstSent) {
			firstSent = a.sent
		}
		if v, ok := a.s.acks.Load(a.id); ok {
			b.res.ackLatency = append(b.res.ackLatency, time.Duration(v.(int64)-a.sent.UnixNano()))
		}
	}
	b.res.answered += len(qs)
	b.res.acked += n
	if n > 0 {
		b.ackSpan += time.Duration(last - firstSent.UnixNano())
		b.res.acksPerSec = float64(b.res.acked) / b.ackSpan.Seconds()
	}
	if err := b.command("close", q); err != nil {
		return err
	}
	if err := b.command("reveal", q); err != nil {
		return err
	}
	time.Sleep(500 * time.Millisecond)
	return nil
}

// verify ends the session, stops the box cleanly and checks that every
// answer sent is in its database.
func (b *boxRun) verify(ctx context.Context) error {
	b.res.peakRSS = b.srv.peakRSS()
	b.command("end", -1)
	time.Sleep(500 * time.Millisecond)
	closeAll(b.students)
	b.tws.Close()
	b.srv.terminate()
	db, err := store.Open(ctx, filepath.Join(b.srv.dir, "data", "stembox.db"), nil)
	if err != nil {
		return fmt.Errorf("open the box's database: %w", err)
	}
	defer db.Close()
	rec, err := db.LiveSessionByCode(ctx, b.code)
	if err != nil {
		return err
	}
	rs, err := db.LiveResponses(ctx, rec.ID)
	if err != nil {
		return err
	}
	stored := map[string]bool{}
	for _, r := range rs {
		stored[r.ID] = true
	}
	b.res.stored = len(rs)
	for _, a := range b.sent {
		if !stored[a.id] {
			b.res.lost++
		}
	}
	var errs int64
	for _, s := range b.students {
		errs += s.errs.Load()
	}
	if errs+b.teacher.errs.Load() > 0 {
		fmt.Printf("stembox: students got %d errors, the teacher %d\n", errs, b.teacher.errs.Load())
	}
	return nil
}

func (b *boxRun) finish() {
	closeAll(b.students)
	if b.tws != nil {
		b.tws.Close()
	}
	if b.srv != nil {
		b.srv.stop()
	}
}
