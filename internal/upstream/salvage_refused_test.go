package upstream_test

import (
	"database/sql"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/mitstem/stembox/internal/content"
	"github.com/mitstem/stembox/internal/hub"
	"github.com/mitstem/stembox/internal/hub/hubtest"
	"github.com/mitstem/stembox/internal/upstream"
	"github.com/mitstem/stembox/internal/upstream/upstreamtest"
	"github.com/mitstem/stembox/internal/upstream/wire"
)

// countingTransport counts the requests a box makes, by method and path.
type countingTransport struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.mu.Lock()
	c.n[r.Method+" "+r.URL.Path]++
	c.mu.Unlock()
	return http.DefaultTransport.RoundTrip(r)
}

func (c *countingTransport) count(key string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[key]
}

// Events a restore kept from the database it replaced, which the hub
// refuses for a reason of their own (here: one of them carries the id of
// an event the hub holds elsewhere), hold nothing back: the box's own
// events go up first, the pull runs, the refusal is the sync's error on the
// box and in the status the hub sees, the salvaged events wait, and the
// next sync does not send them again at once. Once the fault is mended,
// an admin's "sync now" sends them.
func TestRefusedSalvageHoldsNothingBack(t *testing.T) {
	for _, backend := range hubtest.Backends() {
		t.Run(backend.Name, func(t *testing.T) {
			ctx := t.Context()
			h := hubtest.Start(t, t.TempDir(), backend.Target(t), hub.Config{})
			box := newBox(t, content.NewKeyring())
			requests := &countingTransport{n: map[string]int{}}
			cfg := upstream.Config{HubURL: h.URL, EnrollToken: newToken(t, h, "School 4", "Sughd"), BatchSize: 100, Client: &http.Client{Transport: requests}}
			w, err := upstreamtest.NewBox(ctx, box.db, 2, 10, 5)
			if err != nil {
				t.Fatal(err)
			}
			if err := w.Write(ctx, 100, 1); err != nil {
				t.Fatal(err)
			}
			if err := box.syncer(cfg).Sync(ctx); err != nil {
				t.Fatal(err)
			}
			backup := box.backup(t)
			if err := w.Write(ctx, 20, 1); err != nil { // never synced
				t.Fatal(err)
			}
			old := events(t, box.db)
			if res := box.restore(t, backup); res.Replaced.Salvaged != 20 {
				t.Fatalf("the restore kept %+v, want 20 events never synced", res.Replaced)
			}
			// The replaced database had one of them under the id of an
			// event the hub holds at seq 1.
			raw, err := sql.Open("sqlite3", "file:"+box.db.Path()+"?_busy_timeout=10000")
			if err != nil {
				t.Fatal(err)
			}
			defer raw.Close()
			var held, kept string
			if err := raw.QueryRowContext(ctx, "SELECT id FROM events WHERE seq = 1").Scan(&held); err != nil {
				t.Fatal(err)
			}
			if err := raw.QueryRowContext(ctx, "SELECT id FROM upstream_salvage ORDER BY seq LIMIT 1").Scan(&kept); err != nil {
				t.Fatal(err)
			}
			if _, err := raw.ExecContext(ctx, "UPDATE upstream_salvage SET id = ? WHERE id = ?", held, kept); err != nil {
				t.Fatal(err)
			}
			w.DB = box.db
			if err := w.Write(ctx, 30, 1); err != nil {
				t.Fatal(err)
			}
			s := box.syncer(cfg)
			for try := 1; try <= 2; try++ {
				posts, catalogues := requests.count("POST "+wire.PathEvents), requests.count("GET "+wire.PathCatalogue)
				err := s.Sync(ctx)
				var se *upstream.SalvageError
				if !errors.As(err, &se) || !strings.Contains(err.Error(), "already held") {
					t.Fatalf("sync %d: %v, want a SalvageError with the hub's reason", try, err)
				}
				st, err := upstream.ReadStatus(ctx, box.db)
				if err != nil || st.AckedSeq != st.LastSeq || st.Salvaged != 20 || st.Backlog != 20 {
					t.Errorf("sync %d: status %+v, %v; want the box's own events acknowledged and the 20 salvaged waiting", try, st, err)
				}
				if !strings.Contains(st.LastError, "replaced database") || !strings.Contains(st.LastError, "already held") {
					t.Errorf("sync %d: `sync status` error %q, want the refusal of the salvaged events", try, st.LastError)
				}
				if try == 1 && requests.count("GET "+wire.PathCatalogue) == catalogues {
					t.Errorf("sync %d: no catalogue pulled", try)
				}
				if sent := requests.count("POST "+wire.PathEvents) - posts; try == 2 && sent != 0 {
					t.Errorf("sync %d right after a refusal sent %d batches, want none (the salvage waits its turn)", try, sent)
				}
				if live, err := s.Status(ctx); err != nil || !strings.Contains(live.Refused, "replaced database") || live.RefusedSince.IsZero() {
					t.Errorf("sync %d: the serving status says refused %q since %v (%v), want the salvage's refusal", try, live.Refused, live.RefusedSince, err)
				}
				boxes, err := h.Store().Boxes(ctx)
				if err != nil || len(boxes) != 1 || boxes[0].Status == nil || !strings.Contains(boxes[0].Status.LastError, "replaced database") {
					t.Errorf("sync %d: the hub sees %+v, %v; want the refusal as the box's last error", try, boxes, err)
				}
			}
			if _, err := raw.ExecContext(ctx, "UPDATE upstream_salvage SET id = ? WHERE id = ?", kept, held); err != nil {
				t.Fatal(err)
			}
			s.Poke() // an admin's "sync now"
			if err := s.Sync(ctx); err != nil {
				t.Fatalf("sync once mended: %v", err)
			}
			checkSynced(t, box.db)
			if live, _ := s.Status(ctx); live.Refused != "" {
				t.Errorf("once the salvage went up, the status still says the hub refuses: %q", live.Refused)
			}
			checkHubHolds(t, h.Store(), box.boxID(t), union(old, events(t, box.db)))
		})
	}
}
