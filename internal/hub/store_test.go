package hub_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mitstem/stembox/internal/failure"
	"github.com/mitstem/stembox/internal/hub"
	"github.com/mitstem/stembox/internal/hub/hubtest"
	"github.com/mitstem/stembox/internal/upstream/upstreamtest"
	"github.com/mitstem/stembox/internal/upstream/wire"
)

// eachBackend runs f against a fresh hub store on SQLite and, when
// STEMBOX_TEST_POSTGRES is set, on PostgreSQL.
func eachBackend(t *testing.T, f func(t *testing.T, st *hub.Store)) {
	for _, b := range hubtest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			st := mustOpenStore(t, b.Target(t), t.TempDir())
			f(t, st)
		})
	}
}

func mustOpenStore(tb testing.TB, target, dir string) *hub.Store {
	tb.Helper()
	st, err := hub.OpenStore(context.Background(), target, dir)
	if err != nil {
		tb.Fatalf("open hub store: %v", err)
	}
	tb.Cleanup(func() { st.Close() })
	return st
}

// enrolled makes a school and enrolls box boxID in it.
func enrolled(t *testing.T, st *hub.Store, school, region, boxID string) (hub.BoxIdentity, wire.EnrollResponse) {
	t.Helper()
	ctx := t.Context()
	tok, err := st.CreateSchool(ctx, school, region, 0)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := st.Enroll(ctx, tok.Token, boxID, "box of "+school)
	if err != nil {
		t.Fatalf("enroll: %v", err)
	}
	id, err := st.AuthBox(ctx, resp.Credential)
	if err != nil {
		t.Fatalf("auth with the new credential: %v", err)
	}
	return id, resp
}

func batch(box string, evs []wire.Event) wire.Batch {
	return wire.Batch{BoxID: box, Clock: wire.Clock{WallMS: time.Now().UnixMilli(), BootID: evs[0].BootID, MonoMS: evs[len(evs)-1].MonoMS + 1000}, Events: evs}
}

func TestEnrollment(t *testing.T) {
	eachBackend(t, func(t *testing.T, st *hub.Store) {
		ctx := t.Context()
		tok, err := st.CreateSchool(ctx, "School 12", "Sughd", time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.CreateSchool(ctx, " ", "Sughd", 0); failure.KindOf(err) != failure.Invalid {
			t.Errorf("school without a name: %v, want invalid", err)
		}
		resp, err := st.Enroll(ctx, tok.Token, "BOX1", "")
		if err != nil {
			t.Fatal(err)
		}
		if resp.SchoolName != "School 12" || resp.Region != "Sughd" || resp.BoxID != "BOX1" || resp.HubKey == "" {
			t.Errorf("enroll response = %+v", resp)
		}
		// A token is spent by its first enrollment: neither another box nor
		// the same box id (anyone who read it off the LAN) can redeem it
		// again and take the box's identity.
		for _, box := range []string{"BOX2", "BOX1"} {
			if _, err := st.Enroll(ctx, tok.Token, box, ""); failure.KindOf(err) != failure.Conflict || !strings.Contains(err.Error(), "used already") {
				t.Errorf("reusing a token for %s: %v, want a conflict saying it is used", box, err)
			}
		}
		if _, err := st.AuthBox(ctx, resp.Credential); err != nil {
			t.Errorf("the first credential after its token was tried again: %v, want it still working", err)
		}
		// Re-enrollment is the operator's act: a new token of the school
		// enrolls the box anew, and its old credential stops working.
		renew, err := st.NewToken(ctx, tok.School.ID, 0)
		if err != nil {
			t.Fatal(err)
		}
		again, err := st.Enroll(ctx, renew.Token, "BOX1", "")
		if err != nil || again.Credential == resp.Credential {
			t.Fatalf("re-enrolling with the operator's new token: %v", err)
		}
		if _, err := st.AuthBox(ctx, resp.Credential); failure.KindOf(err) != failure.Unauthorized {
			t.Errorf("the credential from before the re-enrollment: %v, want revoked", err)
		}
		resp = again
		if _, err := st.Enroll(ctx, "nonsense", "BOX2", ""); failure.KindOf(err) != failure.Unauthorized {
			t.Errorf("unknown token: %v, want unauthorized", err)
		}
		// Tokens expire.
		old, err := st.NewToken(ctx, tok.School.ID, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		st.Now = func() time.Time { return time.Now().Add(2 * time.Minute) }
		if _, err := st.Enroll(ctx, old.Token, "BOX2", ""); failure.KindOf(err) != failure.Unauthorized || !strings.Contains(err.Error(), "expired") {
			t.Errorf("expired token: %v, want refused as expired", err)
		}
		st.Now = time.Now
		// A box belongs to its school for good.
		other, err := st.CreateSchool(ctx, "School 7", "Khatlon", 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.Enroll(ctx, other.Token, "BOX1", ""); failure.KindOf(err) != failure.Conflict {
			t.Errorf("enrolling a box in another school: %v, want conflict", err)
		}
		// Credentials are checked, and can be revoked.
		id, err := st.AuthBox(ctx, resp.Credential)
		if err != nil || id.BoxID != "BOX1" || id.SchoolID != tok.School.ID {
			t.Fatalf("AuthBox = %+v, %v", id, err)
		}
		forged := wire.NewCredential(wire.BoxPrefix)
		forged.ID = id.Credential
		if _, err := st.AuthBox(ctx, forged.String()); failure.KindOf(err) != failure.Unauthorized {
			t.Errorf("a credential with the wrong secret: %v, want unauthorized", err)
		}
		if err := st.RevokeCredential(ctx, id.Credential); err != nil {
			t.Fatal(err)
		}
		if _, err := st.AuthBox(ctx, resp.Credential); failure.KindOf(err) != failure.Unauthorized {
			t.Errorf("a revoked credential: %v, want unauthorized", err)
		}
		if _, err := st.AuthOperator(ctx, resp.Credential); failure.KindOf(err) != failure.Unauthorized {
			t.Errorf("a box credential as an operator: %v, want unauthorized", err)
		}
		// Concurrent enrollments with one token, by several boxes and by one
		// box twice: exactly one wins, the others are told it is used.
		tok3, _ := st.NewToken(ctx, tok.School.ID, 0)
		var wg sync.WaitGroup
		var mu sync.Mutex
		wins := 0
		var won wire.EnrollResponse
		for i := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r, err := st.Enroll(context.Background(), tok3.Token, "RACE"+string(rune('A'+i%4)), "")
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					wins++
					won = r
				case failure.KindOf(err) != failure.Conflict:
					t.Errorf("a losing enrollment: %v, want a conflict", err)
				}
			}()
		}
		wg.Wait()
		if _, err := st.AuthBox(ctx, won.Credential); wins == 1 && err != nil {
			t.Errorf("the winning credential: %v", err)
		}
		if wins != 1 {
			t.Errorf("%d enrollments won with one token, want 1", wins)
		}
	})
}

func TestIngestIsIdempotentAndContiguous(t *testing.T) {
	eachBackend(t, func(t *testing.T, st *hub.Store) {
		ctx := t.Context()
		id, _ := enrolled(t, st, "School 1", "Dushanbe", "BOXA")
		g := upstreamtest.NewGen(10, 2, 10)
		evs := g.Events(300)
		res, err := st.Ingest(ctx, id, batch("BOXA", evs[:100]), true, 1)
		if err != nil || res.AckedSeq != 100 || res.Stored != 100 {
			t.Fatalf("first batch: %+v, %v; want acked 100, stored 100", res, err)
		}
		// The same batch again stores nothing.
		res, err = st.Ingest(ctx, id, batch("BOXA", evs[:100]), true, 1)
		if err != nil || res.AckedSeq != 100 || res.Stored != 0 || res.Duplicates != 100 {
			t.Fatalf("repeated batch: %+v, %v", res, err)
		}
		// A batch after a gap is kept, but the cursor waits for the gap.
		res, err = st.Ingest(ctx, id, batch("BOXA", evs[200:]), true, 1)
		if err != nil || res.AckedSeq != 100 || res.Stored != 100 {
			t.Fatalf("batch after a gap: %+v, %v; want acked 100", res, err)
		}
		// Filling the gap (overlapping what is held) moves it to the end.
		res, err = st.Ingest(ctx, id, batch("BOXA", evs[50:250]), true, 1)
		if err != nil || res.AckedSeq != 300 || res.Stored != 100 || res.Duplicates != 100 {
			t.Fatalf("filling the gap: %+v, %v; want acked 300", res, err)
		}
		// An event that contradicts a held one refuses the whole batch.
		bad := append([]wire.Event(nil), evs[290:]...)
		g2 := upstreamtest.NewGen(11, 1, 3)
		more := g2.Events(20)
		for i := range more {
			more[i].Seq = 301 + int64(i)
		}
		bad = append(bad, more...)
		bad[3].Payload = []byte(`{"tampered":true}`)
		if _, err := st.Ingest(ctx, id, batch("BOXA", bad), true, 1); failure.KindOf(err) != failure.Conflict {
			t.Fatalf("a batch contradicting held events: %v, want conflict", err)
		}
		bad = append([]wire.Event(nil), more...)
		bad[5].ID = evs[7].ID // an id held at another seq
		if _, err := st.Ingest(ctx, id, batch("BOXA", bad), true, 1); failure.KindOf(err) != failure.Conflict {
			t.Fatalf("an id held at another seq: %v, want conflict", err)
		}
		bs, err := st.BoxState(ctx, "BOXA")
		if err != nil || bs.AckedSeq != 300 || bs.Events != 300 {
			t.Fatalf("after refused batches: %+v, %v; want 300 events, nothing of the refused batches", bs, err)
		}
		// A credential pushes only its own box's events.
		if _, err := st.Ingest(ctx, id, batch("BOXB", more), true, 1); failure.KindOf(err) != failure.Unauthorized {
			t.Fatalf("pushing another box's events: %v, want unauthorized", err)
		}
		// What is held is exactly what was sent.
		var n int
		err = st.EachEvent(ctx, "BOXA", func(ev wire.Event, _ int64, _ string) error {
			want := evs[n]
			if ev.ID != want.ID || ev.Seq != want.Seq || string(ev.Payload) != string(want.Payload) || ev.WallMS != want.WallMS || ev.MonoMS != want.MonoMS || ev.BootID != want.BootID || ev.Actor != want.Actor || ev.Kind != want.Kind {
				t.Fatalf("event %d held as %+v, sent as %+v", n, ev, want)
			}
			n++
			return nil
		})
		if err != nil || n != 300 {
			t.Fatalf("events held: %d, %v", n, err)
		}
	})
}

// TestConcurrentIngest sends the same batches from many goroutines at once
// (retries crossing, or several hub processes): every event is held once.
func TestConcurrentIngest(t *testing.T) {
	for _, b := range hubtest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			target := b.Target(t)
			dir := t.TempDir()
			first := mustOpenStore(t, target, dir)
			stores := []*hub.Store{first}
			if target != "" { // PostgreSQL: several hub processes share the database
				stores = append(stores, mustOpenStore(t, target, t.TempDir()), mustOpenStore(t, target, t.TempDir()))
			}
			idA, _ := enrolled(t, first, "School A", "Sughd", "BOXA")
			idB, _ := enrolled(t, first, "School B", "Sughd", "BOXB")
			gA, gB := upstreamtest.NewGen(20, 2, 10), upstreamtest.NewGen(21, 2, 10)
			evA, evB := gA.Events(2000), gB.Events(2000)
			var wg sync.WaitGroup
			errs := make(chan error, 100)
			for w := range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					st := stores[w%len(stores)]
					for i := 0; i < 2000; i += 250 {
						j := i
						if w%2 == 1 {
							j = 1750 - i // the other way round
						}
						if _, err := st.Ingest(context.Background(), idA, batch("BOXA", evA[j:j+250]), true, 1); err != nil {
							errs <- err
						}
						if _, err := st.Ingest(context.Background(), idB, batch("BOXB", evB[j:j+250]), true, 1); err != nil {
							errs <- err
						}
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Errorf("concurrent ingest: %v", err)
			}
			for _, box := range []string{"BOXA", "BOXB"} {
				bs, err := first.BoxState(t.Context(), box)
				if err != nil || bs.AckedSeq != 2000 || bs.Events != 2000 {
					t.Errorf("%s: %+v, %v; want 2000 events acked", box, bs, err)
				}
			}
		})
	}
}
