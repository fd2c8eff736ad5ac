package server_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mitstem/stembox/internal/content"
	"github.com/mitstem/stembox/internal/content/contenttest"
	"github.com/mitstem/stembox/internal/logtest"
	"github.com/mitstem/stembox/internal/server"
	"github.com/mitstem/stembox/internal/store"
)

// miniPack is the mini pack, built once for all tests.
func miniPack(tb testing.TB) ([]byte, *content.Signer) { return contenttest.MiniPack(tb) }

// testBox is a server over a real database file and a real library with the
// mini pack installed, listening on a real socket.
type testBox struct {
	*httptest.Server
	srv  *server.Server
	db   *store.DB
	lib  *content.Library
	logs *logtest.Buffer // everything the server logged, debug level included
}

// openParts opens a box's store and pack library in a temporary directory,
// with the mini pack installed unless empty; it returns them and the
// directory.
func openParts(tb testing.TB, empty bool) (*store.DB, *content.Library, string) {
	tb.Helper()
	dir := tb.TempDir()
	db, err := store.Open(context.Background(), filepath.Join(dir, "box.db"), nil)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	archive, key := miniPack(tb)
	lib, err := content.OpenLibrary(filepath.Join(dir, "packs"), content.NewKeyring(key.Public()), content.DefaultLimits)
	if err != nil {
		tb.Fatal(err)
	}
	if !empty {
		if _, err := lib.Install(bytes.NewReader(archive), int64(len(archive)), content.InstallOptions{}); err != nil {
			tb.Fatal(err)
		}
	}
	return db, lib, dir
}

// newServer is server.New over db and lib; a nil logger discards the log.
func newServer(tb testing.TB, cfg server.Config, logger *slog.Logger, db *store.DB, lib *content.Library, opts ...server.Option) *server.Server {
	tb.Helper()
	if cfg.DefaultLang == "" {
		cfg.DefaultLang = "en"
	}
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	srv, err := server.New(cfg, logger, db, lib, opts...)
	if err != nil {
		tb.Fatal(err)
	}
	return srv
}

// mustRunServer serves a box with the mini pack over a test server, logging
// at debug level into its logs.
func mustRunServer(tb testing.TB) *testBox {
	tb.Helper()
	return mustRunServerWith(tb, server.Config{})
}

// mustRunServerWith is mustRunServer with a configuration.
func mustRunServerWith(tb testing.TB, cfg server.Config) *testBox {
	tb.Helper()
	db, lib, _ := openParts(tb, false)
	logs := &logtest.Buffer{}
	srv := newServer(tb, cfg, slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})), db, lib)
	ts := httptest.NewServer(srv)
	tb.Cleanup(ts.Close)
	return &testBox{Server: ts, srv: srv, db: db, lib: lib, logs: logs}
}

// device is a browser: it keeps cookies and does not follow redirects, so
// tests see them.
type device struct {
	tb     testing.TB
	box    *testBox
	client *http.Client
	lang   string
}

func (b *testBox) device(tb testing.TB, lang string) *device {
	jar, _ := cookiejar.New(nil)
	return &device{tb: tb, box: b, lang: lang, client: &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

type response struct {
	*http.Response
	body string
}

func (d *device) do(req *http.Request) response {
	d.tb.Helper()
	if d.lang != "" {
		req.Header.Set("Accept-Language", d.lang)
	}
	resp, err := d.client.Do(req)
	if err != nil {
		d.tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		d.tb.Fatal(err)
	}
	return response{resp, string(b)}
}

func (d *device) get(path string, header ...string) response {
	d.tb.Helper()
	req, _ := http.NewRequest("GET", d.box.URL+path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return d.do(req)
}

func (d *device) postForm(path string, form url.Values) response {
	d.tb.Helper()
	req, _ := http.NewRequest("POST", d.box.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", d.box.URL)
	return d.do(req)
}

func (d *device) postJSON(path, body string) response {
	d.tb.Helper()
	req, _ := http.NewRequest("POST", d.box.URL+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	return d.do(req)
}

func wantStatus(tb testing.TB, r response, want int) {
	tb.Helper()
	if r.StatusCode != want {
		tb.Fatalf("%s %s: status %d, want %d; body:\n%.2000s", r.Request.Method, r.Request.URL.Path, r.StatusCode, want, r.body)
	}
}

func wantContains(tb testing.TB, r response, subs ...string) {
	tb.Helper()
	for _, s := range subs {
		if !strings.Contains(r.body, s) {
			tb.Errorf("%s %s: body lacks %q; body:\n%.3000s", r.Request.Method, r.Request.URL.Path, s, r.body)
		}
	}
}

func wantLacks(tb testing.TB, r response, subs ...string) {
	tb.Helper()
	for _, s := range subs {
		if strings.Contains(r.body, s) {
			tb.Errorf("%s %s: body has %q, which it must not", r.Request.Method, r.Request.URL.Path, s)
		}
	}
}
