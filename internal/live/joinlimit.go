package live

import (
	"sync"
	"time"
)

// Joins per source address. One client must not fill a session (a tester
// joined 9,748 players in 5 s from one address): each address gets a token
// bucket of joinBurst joins refilled at joinRate a second, box-wide, and a
// session takes at most maxPlayersPerAddr joins from one address. A shared
// tablet joins a few times; a class behind one NAT'd address (rare on a
// school LAN) joins its first joinBurst at once and the rest within seconds.
const (
	joinRate          = 2  // joins a second, per address
	joinBurst         = 20 // joins at once, per address
	maxPlayersPerAddr = 60 // joins of one session from one address
	maxJoinBuckets    = 4096
)

// joinLimiter holds the token buckets of the addresses that joined lately.
type joinLimiter struct {
	mu      sync.Mutex
	buckets map[string]*joinBucket
	burst   float64 // joinBurst; tests raise it
}

type joinBucket struct {
	tokens float64
	last   time.Time
}

// allow takes a join token of addr at now; "" (a caller in the box) is not
// limited.
func (l *joinLimiter) allow(addr string, now time.Time) bool {
	if addr == "" {
		return true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.buckets == nil {
		l.buckets = map[string]*joinBucket{}
	}
	if l.burst == 0 {
		l.burst = joinBurst
	}
	b, ok := l.buckets[addr]
	if !ok {
		if len(l.buckets) >= maxJoinBuckets {
			l.prune(now)
		}
		b = &joinBucket{tokens: l.burst, last: now}
		l.buckets[addr] = b
	}
	b.tokens = min(l.burst, b.tokens+now.Sub(b.last).Seconds()*joinRate)
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// prune forgets the buckets that have refilled: they are as new ones. If
// all are still refilling (addresses flooding), it forgets them all rather
// than grow without bound.
func (l *joinLimiter) prune(now time.Time) {
	for a, b := range l.buckets {
		if b.tokens+now.Sub(b.last).Seconds()*joinRate >= l.burst {
			delete(l.buckets, a)
		}
	}
	if len(l.buckets) >= maxJoinBuckets {
		clear(l.buckets)
	}
}
