package upstream_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/mitstem/stembox/internal/content"
	"github.com/mitstem/stembox/internal/event"
	"github.com/mitstem/stembox/internal/hub"
	"github.com/mitstem/stembox/internal/hub/hubtest"
	"github.com/mitstem/stembox/internal/upstream"
	"github.com/mitstem/stembox/internal/upstream/upstreamtest"
	"github.com/mitstem/stembox/internal/upstream/wire"
)

// A box tells the hub how it stands after each push: the hub's operator
// sees the pack the box refused and why, its version, backlog and disk —
// on the boxes page, that box first, and in GET /api/v1/boxes.
func TestHubSeesTheBoxStatus(t *testing.T) {
	archive, key := miniPack(t)
	newer, other := otherSigned(t, archive, 10<<10)
	for _, backend := range hubtest.Backends() {
		t.Run(backend.Name, func(t *testing.T) {
			ctx := t.Context()
			h := hubtest.Start(t, t.TempDir(), backend.Target(t), hub.Config{})
			publish(t, h, newer, content.NewKeyring(other.Public()))

			// A box whose library does not trust the new pack's signer:
			// it keeps 1.0.0 and refuses 1.1.0.
			refusing := newBox(t, content.NewKeyring(key.Public()))
			if _, err := refusing.lib.Install(bytes.NewReader(archive), int64(len(archive)), content.InstallOptions{}); err != nil {
				t.Fatal(err)
			}
			cfg := upstream.Config{HubURL: h.URL, EnrollToken: newToken(t, h, "School 5", "Sughd"), Version: "7.7.7-refusing", CacheDir: t.TempDir()}
			s := upstream.New(refusing.db, refusing.lib, cfg, testLogger())
			// A box of a school that sorts first, which installs it.
			fine := newBox(t, content.NewKeyring(other.Public()))
			w, err := upstreamtest.NewBox(ctx, fine.db, 1, 5, 1)
			if err != nil {
				t.Fatal(err)
			}
			if err := w.Write(ctx, 20, 1); err != nil {
				t.Fatal(err)
			}
			fs := upstream.New(fine.db, fine.lib, upstream.Config{HubURL: h.URL, EnrollToken: newToken(t, h, "School 1", "Aaa"), Version: "7.7.7-fine", CacheDir: t.TempDir()}, testLogger())
			if err := fs.Sync(ctx); err != nil {
				t.Fatalf("the fine box's sync: %v", err)
			}
			for try := 1; try <= 2; try++ { // the second status replaces the first
				s.Poke()
				if err := s.Sync(ctx); err == nil || !strings.Contains(err.Error(), "does not trust") {
					t.Fatalf("sync %d: err = %v, want the refused pack reported", try, err)
				}
			}

			boxes, err := h.Store().Boxes(ctx)
			if err != nil || len(boxes) != 2 {
				t.Fatalf("boxes = %+v, %v", boxes, err)
			}
			got, ok := boxes[0], boxes[1]
			if got.ID != refusing.boxID(t) {
				t.Fatalf("first box = %s (%s), want the box that needs attention first", got.ID, got.SchoolName)
			}
			st := got.Status
			if st == nil || st.Version != "7.7.7-refusing" || st.Packs["mini"] != "1.0.0" || st.DiskFree <= 0 || st.Backlog != 0 || got.StatusAt.IsZero() {
				t.Fatalf("refusing box's status = %+v at %v", st, got.StatusAt)
			}
			var named bool
			for _, p := range st.Problems {
				named = named || (p.Pack == "mini" && p.Version == "1.1.0" && strings.Contains(p.Error, "does not trust"))
			}
			if !named || !strings.Contains(st.LastError, "mini 1.1.0") || len(got.Attention) == 0 {
				t.Errorf("refusing box: problems %+v, last error %q, attention %q; want mini 1.1.0 and its reason", st.Problems, st.LastError, got.Attention)
			}
			if ok.Status == nil || ok.Status.Packs["mini"] != "1.1.0" || len(ok.Status.Problems) != 0 || ok.Status.LastError != "" || len(ok.Attention) != 0 {
				t.Errorf("fine box: status %+v, attention %q", ok.Status, ok.Attention)
			}

			// The operator's page, signed in.
			jar, _ := cookiejar.New(nil)
			browser := &http.Client{Jar: jar}
			resp, err := browser.PostForm(h.URL+"/login", url.Values{"token": {h.Operator}, "next": {"/"}})
			if err != nil {
				t.Fatal(err)
			}
			page, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			text := html.UnescapeString(string(page))
			i, j := strings.Index(text, "7.7.7-refusing"), strings.Index(text, "7.7.7-fine")
			if resp.StatusCode != 200 || i < 0 || j < i || !strings.Contains(text, "mini 1.1.0: ") || !strings.Contains(text, "does not trust") {
				t.Errorf("home page: %d, refusing box at %d, fine box at %d; want the refusal shown, that box first:\n%s", resp.StatusCode, i, j, page)
			}

			// The same in JSON, for the operator's tools only.
			api := func(token string) (int, []byte) {
				req, _ := http.NewRequest("GET", h.URL+"/api/v1/boxes", nil)
				req.Header.Set("Authorization", "Bearer "+token)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				b, _ := io.ReadAll(resp.Body)
				return resp.StatusCode, b
			}
			code, body := api(h.Operator)
			var listed []hub.BoxInfo
			if err := json.Unmarshal(body, &listed); code != 200 || err != nil || len(listed) != 2 || listed[0].Status == nil || len(listed[0].Status.Problems) == 0 {
				t.Errorf("GET /api/v1/boxes: %d %v\n%s", code, err, body)
			}
			cred, _ := refusing.db.UpstreamLink(ctx)
			if code, body := api(cred.Credential); code != http.StatusForbidden && code != http.StatusUnauthorized {
				t.Errorf("GET /api/v1/boxes with a box credential: %d %s, want refused", code, body)
			}
		})
	}
}

// A hub older than POST /api/v1/status answers 404: the push still
// succeeds, and nothing is reported as an error.
func TestOldHubWithoutStatusEndpoint(t *testing.T) {
	ctx := t.Context()
	h := hubtest.Start(t, t.TempDir(), "", hub.Config{})
	target, _ := url.Parse(h.URL)
	proxy := httputil.NewSingleHostReverseProxy(target)
	var asked atomic.Int32
	old := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == wire.PathStatus {
			asked.Add(1)
			http.NotFound(w, r)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	defer old.Close()
	box := newBox(t, content.NewKeyring())
	w, err := upstreamtest.NewBox(ctx, box.db, 1, 5, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(ctx, 50, 1); err != nil {
		t.Fatal(err)
	}
	s := box.syncer(upstream.Config{HubURL: old.URL, EnrollToken: newToken(t, h, "School 5", "Sughd")})
	for try := 1; try <= 2; try++ {
		if err := s.Sync(ctx); err != nil {
			t.Fatalf("sync %d through a hub without the status endpoint: %v", try, err)
		}
	}
	st, err := upstream.ReadStatus(ctx, box.db)
	if err != nil || st.Backlog != 0 || st.LastError != "" || st.AckedSeq == 0 {
		t.Errorf("box status = %+v, %v; want every event acknowledged and no error", st, err)
	}
	if n := asked.Load(); n != 2 {
		t.Errorf("the box offered its status %d times, want once a sync", n)
	}
}

// A sync runs after every burst of answers, on links where every byte
// counts: a status the hub already has is not sent again, a changed one
// is sent at the next sync.
func TestStatusIsSentWhenItChanges(t *testing.T) {
	ctx := t.Context()
	h := hubtest.Start(t, t.TempDir(), "", hub.Config{})
	target, _ := url.Parse(h.URL)
	proxy := httputil.NewSingleHostReverseProxy(target)
	var sent atomic.Int32
	var catalogueDown atomic.Bool
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == wire.PathStatus:
			sent.Add(1)
		case r.URL.Path == wire.PathCatalogue && catalogueDown.Load():
			http.Error(w, "down for maintenance", http.StatusInternalServerError)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	defer front.Close()
	box := newBox(t, content.NewKeyring())
	w, err := upstreamtest.NewBox(ctx, box.db, 1, 5, 1)
	if err != nil {
		t.Fatal(err)
	}
	s := box.syncer(upstream.Config{HubURL: front.URL, EnrollToken: newToken(t, h, "School 6", "Sughd")})
	for try := 1; try <= 3; try++ {
		if err := w.Write(ctx, 20, 1); err != nil {
			t.Fatal(err)
		}
		if err := s.Sync(ctx); err != nil {
			t.Fatalf("sync %d: %v", try, err)
		}
	}
	if n := sent.Load(); n != 1 {
		t.Errorf("three syncs with nothing new to say sent the status %d times, want once", n)
	}
	// The catalogue fails: the box has a new last error to tell.
	catalogueDown.Store(true)
	s.Poke()
	var pe *upstream.PullError
	if err := s.Sync(ctx); !errors.As(err, &pe) {
		t.Fatalf("sync with the catalogue down: %v, want a PullError", err)
	}
	if n := sent.Load(); n != 2 {
		t.Errorf("a changed status was sent %d times in all, want a second time", n)
	}
}

// TestHubSeesARefusedPush: a push the hub refuses for good (an event whose
// id the hub holds elsewhere) keeps the events on the box; the box still
// tells the hub, so its operator sees why, not only "last seen".
func TestHubSeesARefusedPush(t *testing.T) {
	ctx := t.Context()
	h := hubtest.Start(t, t.TempDir(), "", hub.Config{})
	box := newBox(t, content.NewKeyring())
	s := box.syncer(upstream.Config{HubURL: h.URL, EnrollToken: newToken(t, h, "School", "R")})
	if err := s.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	ev, err := box.db.RecordAnswer(ctx, event.Answer{ID: "01J00000000000000000PHONE1", Learner: "guest:a", Pack: "p", Set: "s", Item: "q1"})
	if err != nil {
		t.Fatal(err)
	}
	link, err := box.db.UpstreamLink(ctx)
	if err != nil {
		t.Fatal(err)
	}
	id, err := h.Store().AuthBox(ctx, link.Credential)
	if err != nil {
		t.Fatal(err)
	}
	odd := wire.Event{Seq: 101, ID: ev.ID, Kind: ev.Kind, Actor: ev.Actor, WallMS: 1, Payload: ev.Payload}
	if _, err := h.Store().Ingest(ctx, id, wire.Batch{BoxID: box.boxID(t), Stream: wire.Stream{Epoch: "ODD", Base: 100}, Events: []wire.Event{odd}}, false, 1); err != nil {
		t.Fatal(err)
	}
	if err := s.Sync(ctx); err == nil {
		t.Fatal("the push of an event held elsewhere succeeded")
	}
	boxes, err := h.Store().Boxes(ctx)
	if err != nil || len(boxes) != 1 || boxes[0].Status == nil || !strings.Contains(boxes[0].Status.LastError, "already held") || boxes[0].Status.Backlog == 0 {
		t.Fatalf("the hub's view of the box: %+v, %v; want the refusal and the backlog", boxes, err)
	}
}
