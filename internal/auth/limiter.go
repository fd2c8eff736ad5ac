package auth

import (
	"sync"
	"time"
)

// Limiter slows down guessing: once a key (an account, a device address) has
// failed Free times, each further attempt must wait Base, twice as long after
// every further failure, up to Max. A success clears the key. Keys forget
// their failures after Window of quiet.
type Limiter struct {
	Free   int
	Base   time.Duration
	Max    time.Duration
	Window time.Duration
	Now    func() time.Time

	mu   sync.Mutex
	keys map[string]*limitState
}

type limitState struct {
	failures int
	until    time.Time // no attempt before this
	last     time.Time
}

// NewLimiter returns a limiter with the box's defaults: 5 free attempts,
// then 30 s doubling up to 15 minutes, forgotten after an hour.
func NewLimiter() *Limiter {
	return &Limiter{Free: 5, Base: 30 * time.Second, Max: 15 * time.Minute, Window: time.Hour, Now: time.Now}
}

// Wait returns how long the key must wait before its next attempt; 0 means
// it may try now.
func (l *Limiter) Wait(key string) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	s, ok := l.keys[key]
	if !ok {
		return 0
	}
	now := l.Now()
	if now.Sub(s.last) > l.Window {
		delete(l.keys, key)
		return 0
	}
	if d := s.until.Sub(now); d > 0 {
		return d
	}
	return 0
}

// Fail records a failed attempt.
func (l *Limiter) Fail(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.keys == nil {
		l.keys = map[string]*limitState{}
	}
	now := l.Now()
	s, ok := l.keys[key]
	if !ok || now.Sub(s.last) > l.Window {
		s = &limitState{}
		l.keys[key] = s
	}
	s.failures++
	s.last = now
	if over := s.failures - l.Free; over >= 0 {
		d := l.Base << min(over, 20)
		if d > l.Max || d <= 0 {
			d = l.Max
		}
		s.until = now.Add(d)
	}
	if len(l.keys) > 100000 { // bounded memory under a flood of addresses
		for k, v := range l.keys {
			if now.Sub(v.last) > l.Window || v.until.Before(now) {
				delete(l.keys, k)
			}
		}
	}
}

// Succeed forgets the key's failures.
func (l *Limiter) Succeed(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.keys, key)
}
