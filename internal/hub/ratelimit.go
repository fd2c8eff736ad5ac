package hub

import (
	"sync"
	"time"

	"github.com/mitstem/stembox/internal/failure"
)

// limiter is a token bucket per key (a credential, an address): one token
// comes back every `every`, up to burst. Each hub process keeps its own, so
// with several processes the limits are per process.
type limiter struct {
	every time.Duration
	burst float64
	now   func() time.Time

	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

func newLimiter(every time.Duration, burst int) *limiter {
	return &limiter{every: every, burst: float64(burst), now: time.Now, buckets: map[string]*bucket{}}
}

// take takes a token for key, or says how long until one comes back.
func (l *limiter) take(key string) (time.Duration, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if len(l.buckets) > 100000 {
		for k, b := range l.buckets {
			if now.Sub(b.last) > time.Duration(l.burst)*l.every {
				delete(l.buckets, k)
			}
		}
	}
	b, ok := l.buckets[key]
	if !ok {
		b = &bucket{tokens: l.burst, last: now}
		l.buckets[key] = b
	}
	b.tokens = min(l.burst, b.tokens+float64(now.Sub(b.last))/float64(l.every))
	b.last = now
	if b.tokens < 1 {
		return time.Duration((1 - b.tokens) * float64(l.every)), false
	}
	b.tokens--
	return 0, true
}

func (l *limiter) check(key, what string) error {
	if wait, ok := l.take(key); !ok {
		return failure.Later(wait, "too many %s; try again in %s", what, wait.Round(time.Second)+time.Second)
	}
	return nil
}
