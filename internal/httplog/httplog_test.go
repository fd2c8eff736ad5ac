package httplog_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mitstem/stembox/internal/httplog"
	"github.com/mitstem/stembox/internal/logtest"
)

func get(t *testing.T, url string) (int, string, http.Header) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

func TestRequestsAndRecover(t *testing.T) {
	var logs logtest.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	var mu sync.Mutex
	var done []string
	mux := http.NewServeMux()
	mux.HandleFunc("GET /ok", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("fine")) })
	mux.HandleFunc("GET /file", func(w http.ResponseWriter, r *http.Request) {
		http.ServeContent(w, r, "f.txt", time.Time{}, strings.NewReader("a file"))
	})
	mux.HandleFunc("GET /gone", func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) })
	mux.HandleFunc("GET /panic", func(w http.ResponseWriter, r *http.Request) { panic("boom") })
	pattern := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			next.ServeHTTP(w, r)
			if rec, ok := w.(*httplog.Recorder); ok {
				rec.Pattern = r.Pattern
			}
		})
	}
	srv := httptest.NewServer(httplog.Recover(log)(httplog.Requests{
		Log:     log,
		Slow:    time.Hour,
		Attrs:   func(r *http.Request) []any { return []any{"who", "tester"} },
		Headers: func(h http.Header) { h.Set("X-Seen", "type="+h.Get("Content-Type")) },
		Done: func(r *http.Request, rec *httplog.Recorder, start time.Time, d time.Duration) {
			mu.Lock()
			done = append(done, rec.Pattern+" "+http.StatusText(rec.Status))
			mu.Unlock()
		},
	}.Wrap(pattern(mux))))
	defer srv.Close()

	status, body, hd := get(t, srv.URL+"/ok")
	if status != 200 || body != "fine" || hd.Get("X-Seen") != "type=" {
		t.Errorf("/ok = %d %q X-Seen %q, want 200 \"fine\", its headers seen before net/http sniffs a type", status, body, hd.Get("X-Seen"))
	}
	if got := logs.Take(); got != "" {
		t.Errorf("a quick success logged %q at info level, want nothing", got)
	}
	status, body, hd = get(t, srv.URL+"/file")
	if status != 200 || body != "a file" || hd.Get("X-Seen") != "type=text/plain; charset=utf-8" {
		t.Errorf("/file = %d %q X-Seen %q, want 200 \"a file\"", status, body, hd.Get("X-Seen"))
	}
	if status, _, _ := get(t, srv.URL+"/gone"); status != 404 {
		t.Errorf("/gone = %d, want 404", status)
	}
	if got := logs.Take(); !strings.Contains(got, "level=INFO msg=request method=GET path=/gone status=404") || !strings.Contains(got, "who=tester") {
		t.Errorf("a 404 logged %q, want an info line with its status and the extra attributes", got)
	}
	status, body, _ = get(t, srv.URL+"/panic")
	if status != 500 || strings.Contains(body, "boom") {
		t.Errorf("/panic = %d %q, want 500 that does not show the panic", status, body)
	}
	got := logs.Take()
	if !strings.Contains(got, "msg=panic path=/panic panic=boom") || !strings.Contains(got, "stack=") {
		t.Errorf("a panic logged %q, want its value and stack", got)
	}
	mu.Lock()
	defer mu.Unlock()
	want := []string{"GET /ok OK", "GET /file OK", "GET /gone Not Found"}
	if len(done) != len(want) {
		t.Fatalf("Done saw %q, want %q (a panic skips it)", done, want)
	}
	for i, w := range want {
		if done[i] != w {
			t.Errorf("Done #%d saw %q, want %q", i, done[i], w)
		}
	}
}

func TestRecoverLetsAbortThrough(t *testing.T) {
	h := httplog.Recover(slog.New(slog.DiscardHandler))(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		panic(http.ErrAbortHandler)
	}))
	defer func() {
		if v := recover(); v != http.ErrAbortHandler {
			t.Errorf("recovered %v, want http.ErrAbortHandler to pass through", v)
		}
	}()
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	t.Error("ServeHTTP returned, want the abort to go on up")
}
