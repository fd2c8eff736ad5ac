package server_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/mitstem/stembox/internal/auth"
	"github.com/mitstem/stembox/internal/metrics"
	"github.com/mitstem/stembox/internal/ops"
	"github.com/mitstem/stembox/internal/school"
	"github.com/mitstem/stembox/internal/server"
)

// opsBox is a server with the box's registry, recent-errors ring and a log
// the test can read, as box.Open makes it.
type opsBox struct {
	*testBox
	reg    *metrics.Registry
	recent *ops.Recent
	log    *syncBuffer
}

type syncBuffer struct {
	bytes.Buffer
}

func mustRunOpsServer(tb testing.TB) *opsBox {
	tb.Helper()
	db, lib, _ := openParts(tb, false)
	ob := &opsBox{reg: metrics.NewRegistry(), recent: ops.NewRecent(50), log: &syncBuffer{}}
	// The log as stembox serve makes it, at debug level so that every
	// request is logged.
	logger := slog.New(ob.recent.Handler(slog.NewTextHandler(lockedWriter{ob.log}, &slog.HandlerOptions{Level: slog.LevelDebug, ReplaceAttr: ops.Redact})))
	srv := newServer(tb, server.Config{Version: "v9.9.9", Metrics: ob.reg, Recent: ob.recent}, logger, db, lib)
	ts := httptest.NewServer(srv)
	tb.Cleanup(ts.Close)
	ob.testBox = &testBox{Server: ts, db: db, lib: lib}
	return ob
}

// lockedWriter serialises writes from the server's goroutines; tests read
// the buffer only after the requests they made have finished.
type lockedWriter struct{ b *syncBuffer }

var logMu = make(chan struct{}, 1)

func (w lockedWriter) Write(p []byte) (int, error) {
	logMu <- struct{}{}
	defer func() { <-logMu }()
	return w.b.Write(p)
}

func (ob *opsBox) logText() string {
	logMu <- struct{}{}
	defer func() { <-logMu }()
	return ob.log.String()
}

func TestReadyz(t *testing.T) {
	box := mustRunServer(t)
	r := box.device(t, "en").get("/readyz")
	wantStatus(t, r, 200)
	wantContains(t, r, "database: ok", "disk: ok", "packs: ok (1 served")
}

func TestMetrics(t *testing.T) {
	box := mustRunOpsServer(t)
	d := box.device(t, "en")
	wantStatus(t, d.get("/packs/mini/lessons/speed"), 200)
	wantStatus(t, d.get("/packs/mini/lessons/nope"), 404)
	wantStatus(t, d.get("/no/such/page"), 404)
	for _, id := range []string{"01JDV9Z8M6Q0S4C9X3K7T2B5NA", "01JDV9Z8M6Q0S4C9X3K7T2B5NB"} {
		wantStatus(t, d.postJSON("/api/v1/answers", `{"id":"`+id+`","pack":"mini","set":"speed","item":"num-4","text":"5 m/s"}`), 200)
	}
	box.reg.Gauge(server.MetricLiveSessions, "Live sessions.").Set(2)
	// Requests from the box itself are not a student's device; one from the
	// LAN (httptest's 192.0.2.1) is.
	box.Config.Handler.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))

	r := d.get("/metrics")
	wantStatus(t, r, 200)
	if ct := r.Header.Get("Content-Type"); ct != metrics.ContentType {
		t.Errorf("Content-Type %q, want %q", ct, metrics.ContentType)
	}
	wantContains(t, r,
		`stembox_http_requests_total{route="GET /packs/{pack}/lessons/{lesson}",code="200"} 1`,
		`stembox_http_requests_total{route="GET /{$}",code="200"} 1`,
		`stembox_http_requests_total{route="GET /packs/{pack}/lessons/{lesson}",code="404"} 1`,
		`stembox_http_requests_total{route="/",code="404"} 1`,
		`stembox_http_requests_total{route="POST /api/v1/answers",code="200"} 2`,
		`stembox_http_request_duration_seconds_count{route="POST /api/v1/answers"} 2`,
		`stembox_build_info{goversion="go`, `version="v9.9.9"} 1`,
		"\nstembox_events_last_seq 2\n", "\nstembox_sync_acknowledged_seq 0\n", "\nstembox_sync_backlog_events 2\n",
		"\nstembox_store_writes_total 2\n", "\nstembox_packs_served 1\n", "\nstembox_devices_connected 1\n",
		"\nstembox_live_sessions 2\n",
	)
	for _, name := range []string{"stembox_disk_free_bytes", "stembox_db_size_bytes", "stembox_process_resident_memory_bytes"} {
		if !regexp.MustCompile(`\n` + name + ` [1-9][0-9.e+]*\n`).MatchString(r.body) {
			t.Errorf("/metrics lacks a positive %s", name)
		}
	}
}

func TestStatusPage(t *testing.T) {
	box := mustRunOpsServer(t)
	if _, err := box.db.CreateUser(context.Background(), "", school.RoleAdmin, "admin", "Admin", auth.Hash(password)); err != nil {
		t.Fatal(err)
	}
	slog.New(box.recent.Handler(slog.DiscardHandler)).Error("pack does not install", "file", "/data/x.stempack", "text", "what a student typed")
	for _, tc := range []struct{ lang, title, devices string }{
		{"en", "Box status", "Devices connected"},
		{"ru", "Состояние сервера", "Подключённые устройства"},
		{"tg", "Ҳолати сервер", "Дастгоҳҳои пайвастшуда"},
	} {
		d := box.device(t, tc.lang)
		d.signIn("admin", password)
		r := d.get("/admin/status")
		wantStatus(t, r, 200)
		wantContains(t, r, tc.title, tc.devices, "v9.9.9", "mini 1.0.0", "pack does not install", "file=/data/x.stempack")
		wantLacks(t, r, "what a student typed")
	}

	// Without an admin signed in, it is refused: sent to sign in.
	r := box.device(t, "en").get("/admin/status")
	if r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/login") {
		t.Errorf("status page without signing in: %d to %q, want a redirect to /login", r.StatusCode, r.Header.Get("Location"))
	}
}

// Nothing a student sends or carries (what they typed, their cookies) nor a
// teacher's password reaches the log, even at debug level and on errors.
func TestNoPersonalDataInLogs(t *testing.T) {
	box := mustRunOpsServer(t)
	d := box.device(t, "en")
	secret := "Zarina-typed-this-7431"
	wantStatus(t, d.postJSON("/api/v1/answers", `{"pack":"mini","set":"speed","item":"num-4","text":"`+secret+`"}`), 400)
	wantStatus(t, d.postJSON("/api/v1/answers", `{"pack":"mini","set":"speed","item":"num-4","text":"5 m/s"}`), 200)
	wantStatus(t, d.postJSON("/api/v1/answers", `{"pack":"mini","set":"speed","item":"nope","text":"`+secret+`"}`), 404)
	wantStatus(t, d.postJSON("/api/v1/answers", `{"pack":"mini","set":"speed","item":"num-4","text":"`+secret+`", "extra": 1}`), 400)
	d.postForm("/packs/mini/sets/speed/1", map[string][]string{"text": {secret}, "choice": {secret}})
	d.postForm("/login", map[string][]string{"username": {"teacher-" + secret}, "password": {"pw-" + secret}})
	var cookies []string
	u, _ := http.NewRequest("GET", box.URL, nil)
	for _, c := range d.client.Jar.Cookies(u.URL) {
		cookies = append(cookies, c.Value)
	}
	if len(cookies) == 0 {
		t.Fatal("the device got no cookie")
	}
	logged := box.logText()
	if !strings.Contains(logged, "/api/v1/answers") {
		t.Fatalf("debug log lacks the requests:\n%s", logged)
	}
	for _, s := range append(cookies, secret) {
		if strings.Contains(logged, s) {
			t.Errorf("the log holds %q:\n%s", s, logged)
		}
	}
}
