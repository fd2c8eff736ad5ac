package live

import (
	"context"
	"time"

	"github.com/mitstem/stembox/internal/failure"
	"github.com/mitstem/stembox/internal/store"
)

// The persister: every write of every room (joins, answers, phases) goes
// through one queue to one goroutine, which stores what has gathered in one
// call (one transaction, one disk flush). A class answering together costs
// a few flushes, not one each, and no goroutine waits per answer.

const (
	queueSize     = 1 << 15 // writes waiting; past that a room answers "busy"
	maxWriteBatch = 1024    // writes in one transaction
	writeTimeout  = time.Minute
)

// writeReq is a write and what to do once it is stored (or failed): done is
// called on the persister's goroutine and must not block for long.
type writeReq struct {
	w    store.LiveWrite
	done func(error)
}

// errBusy: the write queue is full; the client sends again.
var errBusy = failure.Errorf(failure.Unavailable, "too many writes waiting")

// enqueue queues a write without blocking; false when the queue is full
// or the Sessions have stopped.
func (ss *Sessions) enqueue(req writeReq) bool {
	ss.qmu.RLock()
	defer ss.qmu.RUnlock()
	if ss.qclosed {
		return false
	}
	select {
	case ss.queue <- req:
		return true
	default:
		return false
	}
}

// closeQueue stops taking writes; the persister stores those queued, then
// ends.
func (ss *Sessions) closeQueue() {
	ss.qmu.Lock()
	defer ss.qmu.Unlock()
	if !ss.qclosed {
		ss.qclosed = true
		close(ss.queue)
	}
}

func (ss *Sessions) persist() {
	defer close(ss.persisted)
	batch := make([]writeReq, 0, maxWriteBatch)
	writes := make([]store.LiveWrite, 0, maxWriteBatch)
	for req := range ss.queue {
		batch = append(batch[:0], req)
	gather:
		for len(batch) < maxWriteBatch {
			select {
			case r, ok := <-ss.queue:
				if !ok {
					break gather
				}
				batch = append(batch, r)
			default:
				break gather
			}
		}
		writes = writes[:0]
		for _, r := range batch {
			writes = append(writes, r.w)
		}
		ctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
		errs, err := ss.st.WriteLive(ctx, writes)
		cancel()
		if err != nil {
			ss.log.Error("live: store writes", "writes", len(writes), "err", err)
		}
		for i, r := range batch {
			e := err
			if e == nil {
				e = errs[i]
			}
			r.done(e)
		}
		clear(batch) // drop references for the GC
	}
}
