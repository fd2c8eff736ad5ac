package upstream_test

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mitstem/stembox/internal/content"
	"github.com/mitstem/stembox/internal/content/contenttest"
	"github.com/mitstem/stembox/internal/hub"
	"github.com/mitstem/stembox/internal/hub/hubtest"
	"github.com/mitstem/stembox/internal/upstream"
	"github.com/mitstem/stembox/internal/upstream/upstreamtest"
	"github.com/mitstem/stembox/internal/upstream/wire"
)

// stallingHub stands before a hub and stalls the requests it is told to:
// before the answer's headers, or in the middle of its body, until the
// box goes away.
type stallingHub struct {
	URL string

	mu     sync.Mutex
	stalls map[string][]string // path prefix -> what to do with the next requests: "head", "body"
	seen   []string            // requests, as "METHOD path range"
	left   int                 // requests the box gave up on while stalled
}

func newStallingHub(t *testing.T, target string) *stallingHub {
	t.Helper()
	u, _ := url.Parse(target)
	rp := httputil.NewSingleHostReverseProxy(u)
	sh := &stallingHub{stalls: map[string][]string{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sh.mu.Lock()
		sh.seen = append(sh.seen, r.Method+" "+r.URL.Path+" "+r.Header.Get("Range"))
		var stall string
		for prefix, next := range sh.stalls {
			if strings.HasPrefix(r.URL.Path, prefix) && len(next) > 0 {
				stall, sh.stalls[prefix] = next[0], next[1:]
			}
		}
		sh.mu.Unlock()
		switch stall {
		case "head":
			io.Copy(io.Discard, r.Body) // so the server notices the box leave
			<-r.Context().Done()
		case "body":
			// Forward the request, send the headers and half of the body,
			// then stall.
			rec := httptest.NewRecorder()
			rp.ServeHTTP(rec, r)
			for k, v := range rec.Header() {
				w.Header()[k] = v
			}
			w.WriteHeader(rec.Code)
			body := rec.Body.Bytes()
			w.Write(body[:len(body)/2])
			w.(http.Flusher).Flush()
			<-r.Context().Done()
		default:
			rp.ServeHTTP(w, r)
			return
		}
		sh.mu.Lock()
		sh.left++
		sh.mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	sh.URL = srv.URL
	return sh
}

func (sh *stallingHub) stall(prefix string, how ...string) {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	sh.stalls[prefix] = how
}

// A hub that stalls — before answering, or halfway through an answer — is
// left after the request's bound (events) or the stall timeout (pack
// files, headers included), and the next sync resumes: the events all
// arrive, the pack's download continues with a range request.
func TestStalledHubIsLeftAndTheNextSyncResumes(t *testing.T) {
	archive, key := miniPack(t)
	keys := content.NewKeyring(key.Public())
	m := contenttest.Members(t, archive)
	m["media/big.bin"] = bytes.Repeat([]byte("stembox "), 64<<10) // 512 KiB, the box lacks it
	big := contenttest.Repack(t, m, key)
	h := hubtest.Start(t, t.TempDir(), "", hub.Config{})
	publish(t, h, big, keys)
	sh := newStallingHub(t, h.URL)
	box := newBox(t, keys)
	s := box.syncer(upstream.Config{HubURL: sh.URL, EnrollToken: newToken(t, h, "School", "R"),
		RequestTimeout: 300 * time.Millisecond, StallTimeout: 300 * time.Millisecond, MinBackoff: time.Millisecond})
	ctx := t.Context()
	w, err := upstreamtest.NewBox(ctx, box.db, 1, 5, 2)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(ctx, 50, 1); err != nil {
		t.Fatal(err)
	}
	// The push: an answer that never comes, then one cut halfway.
	sh.stall(wire.PathEvents, "head", "body")
	for try := 1; try <= 2; try++ {
		err := s.Sync(ctx)
		var pe *upstream.PullError
		if err == nil || errors.As(err, &pe) || !strings.Contains(err.Error(), "deadline") {
			t.Fatalf("push %d to a stalled hub: err = %v, want it given up at the deadline", try, err)
		}
	}
	// The pull: the file's answer never comes, then stalls halfway.
	sh.stall(wire.PathFiles, "head", "body")
	if err := s.Sync(ctx); err == nil || !strings.Contains(err.Error(), "stalled") {
		t.Fatalf("sync with the download stalled before its headers: err = %v, want the stall named", err)
	}
	var pe *upstream.PullError
	s.Poke() // pull now, not on the pull's backoff
	if err := s.Sync(ctx); !errors.As(err, &pe) || !strings.Contains(err.Error(), "stalled") {
		t.Fatalf("sync with the download stalled halfway: err = %v, want a PullError naming the stall", err)
	}
	want, _ := box.db.LastSeq(ctx)
	if bs, _ := h.Store().BoxState(ctx, box.boxID(t)); bs.AckedSeq != want {
		t.Errorf("the hub holds events up to %d, want %d: a stalled pull held up the push", bs.AckedSeq, want)
	}
	s.Poke()
	if err := s.Sync(ctx); err != nil {
		t.Fatalf("sync after the stalls: %v", err)
	}
	if p, ok := box.lib.Pack("mini"); !ok {
		t.Fatalf("the pack was not installed: %v", box.lib.Problems())
	} else if _, f, ok := p.FilePath("media/big.bin"); !ok || f.Size != 512<<10 {
		t.Fatalf("the pack installed lacks its big file")
	}
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if sh.left != 4 {
		t.Errorf("the box gave up on %d stalled requests, want 4", sh.left)
	}
	resumed := false
	for _, r := range sh.seen {
		resumed = resumed || (strings.HasPrefix(r, "GET "+wire.PathFiles) && strings.Contains(r, "bytes="))
	}
	if !resumed {
		t.Errorf("the download was not resumed with a range request: %v", sh.seen)
	}
}
