package hub

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// A burst of parallel attempts takes tokens one by one: no more get
// through than the bucket holds, however many arrive at once.
func TestLimiterBurstTakesAtomically(t *testing.T) {
	l := newLimiter(6*time.Second, 10)
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	l.now = func() time.Time { return now }
	var passed atomic.Int64
	var wg sync.WaitGroup
	for range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if l.check("login:192.0.2.7", "sign-in attempts") == nil {
				passed.Add(1)
			}
		}()
	}
	wg.Wait()
	if got := passed.Load(); got != 10 {
		t.Errorf("%d of 100 parallel attempts passed, want the burst of 10", got)
	}
	if err := l.check("login:192.0.2.8", "sign-in attempts"); err != nil {
		t.Errorf("another address was refused: %v", err)
	}
}
