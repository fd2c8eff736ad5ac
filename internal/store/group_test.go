package store_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mitstem/stembox/internal/clock"
	"github.com/mitstem/stembox/internal/failure"
	"github.com/mitstem/stembox/internal/store"
)

// Many writers at once: every answer is stored once, the sequence has no
// gaps, the derived progress agrees with the events, and resends and
// conflicts racing with them behave as they do alone.
func TestConcurrentAnswers(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t)
	const writers, each = 16, 40
	var wg sync.WaitGroup
	var conflicts atomic.Int64
	taken := answer("guest:owner", "q0", true)
	taken.ID = db.NewID()
	if _, err := db.RecordAnswer(ctx, taken); err != nil {
		t.Fatal(err)
	}
	seqs := make([][]int64, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			learner := fmt.Sprintf("guest:%d", w)
			for i := range each {
				a := answer(learner, fmt.Sprintf("q%d", i%5), i%3 == 0)
				a.ID = db.NewID()
				ev, err := db.RecordAnswer(ctx, a)
				if err != nil {
					t.Errorf("writer %d answer %d: %v", w, i, err)
					return
				}
				again, err := db.RecordAnswer(ctx, a)
				if err != nil || again.Seq != ev.Seq {
					t.Errorf("resend: seq %d, %v; want seq %d", again.Seq, err, ev.Seq)
				}
				seqs[w] = append(seqs[w], ev.Seq)
				steal := answer(learner, "q0", true)
				steal.ID = taken.ID
				if _, err := db.RecordAnswer(ctx, steal); failure.KindOf(err) == failure.Conflict {
					conflicts.Add(1)
				} else {
					t.Errorf("reusing another's id: err = %v, want a conflict", err)
				}
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	if got, want := conflicts.Load(), int64(writers*each); got != want {
		t.Errorf("%d conflicts, want %d", got, want)
	}
	last, err := db.LastSeq(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := int64(writers*each + 1); last != want {
		t.Fatalf("last seq %d, want %d", last, want)
	}
	seen := map[int64]bool{}
	for _, ss := range seqs {
		for i, s := range ss {
			if seen[s] {
				t.Fatalf("seq %d acknowledged twice", s)
			}
			seen[s] = true
			if i > 0 && s <= ss[i-1] {
				t.Errorf("one writer's seqs went backwards: %d after %d", s, ss[i-1])
			}
		}
	}
	for w := range writers {
		p, err := db.SetProgress(ctx, fmt.Sprintf("guest:%d", w), "physics", "speed")
		if err != nil {
			t.Fatal(err)
		}
		attempts := 0
		for _, ip := range p {
			attempts += ip.Attempts
		}
		if attempts != each {
			t.Errorf("guest:%d has %d attempts, want %d", w, attempts, each)
		}
	}
	st := db.WriteStats()
	if st.Batches >= st.Writes {
		t.Logf("no grouping happened (%+v): a fast disk, or few cores", st)
	}
}

// BenchmarkRecordAnswer measures answers per second from 200 concurrent
// writers with synchronous=FULL (what the box runs) and OFF (no fsync at
// all: the ceiling). Their ratio is the cost of durability; the group
// commit keeps it small.
func BenchmarkRecordAnswer(b *testing.B) {
	for _, mode := range []string{"FULL", "OFF"} {
		b.Run("synchronous="+mode, func(b *testing.B) {
			db, err := store.OpenOptions(context.Background(), filepath.Join(b.TempDir(), "box.db"), &clock.System{}, store.Options{Synchronous: mode})
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			var n atomic.Int64
			b.SetParallelism(100) // with GOMAXPROCS 2: 200 writers, a busy box
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				learner := fmt.Sprintf("guest:%d", n.Add(1))
				i := 0
				for pb.Next() {
					i++
					if _, err := db.RecordAnswer(context.Background(), answer(learner, fmt.Sprintf("q%d", i%20), i%2 == 0)); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "answers/s")
			st := db.WriteStats()
			if st.Batches > 0 {
				b.ReportMetric(float64(st.Writes)/float64(st.Batches), "answers/commit")
			}
		})
	}
}
