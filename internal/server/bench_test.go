package server_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchmarkLessonPage serves a lesson page through the whole handler stack
// (security headers, logging middleware, language choice, cache, ETag) to an
// in-memory recorder; BenchmarkBareLessonPage writes the same bytes with a
// bare handler, the reference. Their ratio is the cost of stembox's
// features; `make bench` also measures both over real sockets.
func BenchmarkLessonPage(b *testing.B) {
	box := mustRunServer(b)
	h := box.Config.Handler
	req := httptest.NewRequest("GET", "/packs/mini/lessons/speed", nil)
	req.Header.Set("Accept-Language", "en")
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != 200 {
			b.Fatal(w.Code)
		}
	}
}

func BenchmarkBareLessonPage(b *testing.B) {
	box := mustRunServer(b)
	w := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/packs/mini/lessons/speed", nil)
	req.Header.Set("Accept-Language", "en")
	box.Config.Handler.ServeHTTP(w, req)
	page := w.Body.Bytes()
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(page)
	})
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
	}
}
