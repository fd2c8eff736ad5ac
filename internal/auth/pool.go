package auth

import (
	"context"
	"errors"
	"runtime"
	"sync/atomic"
	"time"
)

// ErrBusy says the hashing pool could not take a secret in time: the box is
// busy with many sign-ins at once, and the caller should try again soon.
var ErrBusy = errors.New("auth: too many sign-ins at once; try again in a moment")

// Pool runs the hashing of secrets, at most Size at a time: each hash holds
// argonMemory of RAM while it runs, so a class signing in during the same
// second costs Size hashes' worth of memory, not a class's worth. Callers
// queue for a slot for at most MaxWait (and at most MaxQueue of them wait).
type Pool struct {
	size     int
	maxWait  time.Duration
	maxQueue int64
	slots    chan struct{}

	queued  atomic.Int64
	running atomic.Int64
	peak    atomic.Int64
	done    atomic.Int64
	refused atomic.Int64
}

// PoolStats are what a pool has done since it was made.
type PoolStats struct {
	Size    int   // most hashes at once
	Running int64 // hashes running now
	Peak    int64 // most hashes that ever ran at once
	Done    int64 // hashes computed
	Refused int64 // callers sent away busy
}

// The box's pool: one slot per CPU up to 4 (4 × 12 MiB is little even on a
// 1 GB box), and a caller waits up to 10 s, time for a class of 40 on a
// Raspberry Pi.
const (
	maxPoolSize    = 4
	defaultMaxWait = 10 * time.Second
)

// NewPool returns a pool of size slots (0: one per CPU, at most 4) whose
// callers wait at most maxWait (0: 10 s) for one.
func NewPool(size int, maxWait time.Duration) *Pool {
	if size <= 0 {
		size = min(runtime.GOMAXPROCS(0), maxPoolSize)
	}
	if maxWait <= 0 {
		maxWait = defaultMaxWait
	}
	return &Pool{size: size, maxWait: maxWait, maxQueue: int64(size) * 256, slots: make(chan struct{}, size)}
}

// Do runs f in a slot of the pool, waiting for one at most the pool's
// MaxWait or until ctx ends; it returns ErrBusy if none came in time.
func (p *Pool) Do(ctx context.Context, f func()) error {
	if p.queued.Add(1) > p.maxQueue {
		p.queued.Add(-1)
		p.refused.Add(1)
		return ErrBusy
	}
	timer := time.NewTimer(p.maxWait)
	defer timer.Stop()
	select {
	case p.slots <- struct{}{}:
		p.queued.Add(-1)
	case <-timer.C:
		p.queued.Add(-1)
		p.refused.Add(1)
		return ErrBusy
	case <-ctx.Done():
		p.queued.Add(-1)
		return ctx.Err()
	}
	defer func() { <-p.slots }()
	n := p.running.Add(1)
	for {
		peak := p.peak.Load()
		if n <= peak || p.peak.CompareAndSwap(peak, n) {
			break
		}
	}
	defer p.running.Add(-1)
	f()
	p.done.Add(1)
	return nil
}

// Verify is Verify run in the pool.
func (p *Pool) Verify(ctx context.Context, hash, secret string) (ok bool, err error) {
	err = p.Do(ctx, func() { ok = Verify(hash, secret) })
	return ok, err
}

// Hash is Hash run in the pool.
func (p *Pool) Hash(ctx context.Context, secret string) (h string, err error) {
	err = p.Do(ctx, func() { h = Hash(secret) })
	return h, err
}

// Stats returns the pool's counters.
func (p *Pool) Stats() PoolStats {
	return PoolStats{Size: p.size, Running: p.running.Load(), Peak: p.peak.Load(), Done: p.done.Load(), Refused: p.refused.Load()}
}
