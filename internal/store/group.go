package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/mattn/go-sqlite3"

	"github.com/mitstem/stembox/internal/failure"
)

// Group commit. With synchronous=FULL every commit waits for the disk
// (fsync), which on an SD card takes milliseconds: one transaction per answer
// would cap a box at a few hundred answers a second, and a class of 300
// pressing "check" together would queue behind the card. So answers are
// written by one goroutine, the committer, which takes every write waiting
// for it (up to maxBatch) into one transaction and commits them together:
// one fsync for the lot. Each caller waits until its batch has committed, so
// nothing is acknowledged before it is on disk.
//
// Each write in a batch runs inside its own SAVEPOINT: a write that fails
// (a conflicting answer id, say) is rolled back alone and reports its own
// error, and the others still commit. If the transaction itself fails (the
// disk is full, the commit fails), every write of the batch gets that error
// and none is acknowledged.

// maxBatch bounds a transaction, so one batch never holds the write lock for
// long.
const maxBatch = 256

// errClosed is returned for writes submitted after the database was closed.
var errClosed = failure.Errorf(failure.Unavailable, "the database is closed")

// writeFunc applies one write in tx. It must not commit or roll back.
type writeFunc func(ctx context.Context, tx *sql.Tx) error

type writeReq struct {
	ctx   context.Context // the caller's: a write whose caller gave up before its batch began is skipped
	apply writeFunc
	err   error
	done  chan struct{} // closed once the write's batch has committed or failed
}

// committer is the single goroutine that applies grouped writes.
type committer struct {
	db    *sql.DB
	reqs  chan *writeReq
	stmts *stmtCache

	mu     sync.RWMutex // held for reading while submitting; Close takes it to stop submissions
	closed bool
	quit   chan struct{}
	done   chan struct{}

	batches  atomic.Uint64
	writes   atomic.Uint64
	failures atomic.Uint64
	lastFail atomic.Pointer[writeFailure]
}

type writeFailure struct {
	at  time.Time
	err error
}

func newCommitter(db *sql.DB) *committer {
	c := &committer{db: db, reqs: make(chan *writeReq, maxBatch), stmts: newStmtCache(), quit: make(chan struct{}), done: make(chan struct{})}
	go c.run()
	return c
}

// submit queues apply and waits until it has been committed (nil) or has
// failed. It waits for the batch even if ctx ends meanwhile, so that what it
// returns is the truth: nil means on disk.
func (c *committer) submit(ctx context.Context, apply writeFunc) error {
	req := &writeReq{ctx: ctx, apply: apply, done: make(chan struct{})}
	c.mu.RLock()
	if c.closed {
		c.mu.RUnlock()
		return errClosed
	}
	select {
	case c.reqs <- req:
	case <-ctx.Done():
		c.mu.RUnlock()
		return ctx.Err()
	}
	c.mu.RUnlock()
	<-req.done
	return req.err
}

// close stops accepting writes, commits those already queued, and waits for
// the committer to end.
func (c *committer) close() {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	c.mu.Unlock()
	close(c.quit)
	<-c.done
	c.stmts.close()
}

func (c *committer) run() {
	defer close(c.done)
	batch := make([]*writeReq, 0, maxBatch)
	for {
		select {
		case req := <-c.reqs:
			batch = append(batch[:0], req)
		case <-c.quit:
			// No one can submit any more; commit what is queued.
			for {
				batch = batch[:0]
				c.gather(&batch)
				if len(batch) == 0 {
					return
				}
				c.commit(batch)
			}
		}
		c.gather(&batch)
		c.commit(batch)
	}
}

// gather adds to batch every write already waiting, up to maxBatch.
func (c *committer) gather(batch *[]*writeReq) {
	for len(*batch) < maxBatch {
		select {
		case req := <-c.reqs:
			*batch = append(*batch, req)
		default:
			return
		}
	}
}

// commit applies batch in one transaction and tells every caller how its
// write went.
func (c *committer) commit(batch []*writeReq) {
	defer func() {
		for _, req := range batch {
			if req.err != nil {
				c.failures.Add(1)
			} else {
				c.writes.Add(1)
			}
			close(req.done)
		}
	}()
	ctx := context.Background()
	c.stmts.prepareWanted(ctx, c.db)
	tx, err := c.db.BeginTx(ctx, nil)
	if err != nil {
		c.failAll(batch, fmt.Errorf("store: begin: %w", describe(err)))
		return
	}
	defer tx.Rollback()
	single := len(batch) == 1
	applied := 0
	for _, req := range batch {
		if err := req.ctx.Err(); err != nil {
			req.err = err
			continue
		}
		if single {
			req.err = safeApply(ctx, tx, req.apply)
		} else if req.err = c.savepoint(ctx, tx, req.apply); errors.Is(req.err, errTxBroken) {
			// The transaction can no longer be trusted: fail this write and
			// every other one, including those applied before it.
			c.failAll(batch, req.err)
			return
		}
		if req.err == nil {
			applied++
		}
	}
	if applied == 0 {
		c.classifyAll(batch)
		return
	}
	if err := tx.Commit(); err != nil {
		err = fmt.Errorf("store: commit: %w", describe(err))
		for _, req := range batch {
			if req.err == nil {
				req.err = err
			}
		}
		c.classifyAll(batch)
		return
	}
	c.batches.Add(1)
	c.lastFail.Store(nil)
	c.classifyAll(batch)
}

// errTxBroken marks a failure after which the batch's transaction cannot
// go on (a savepoint could not be rolled back).
var errTxBroken = errors.New("store: the write transaction failed")

// savepoint runs apply inside a savepoint, rolling back to it if apply fails.
func (c *committer) savepoint(ctx context.Context, tx *sql.Tx, apply writeFunc) error {
	exec := func(q string) error {
		if st := c.stmts.get(q); st != nil {
			_, err := tx.StmtContext(ctx, st).ExecContext(ctx)
			return err
		}
		_, err := tx.ExecContext(ctx, q)
		return err
	}
	if err := exec("SAVEPOINT w"); err != nil {
		return fmt.Errorf("%w: savepoint: %w", errTxBroken, describe(err))
	}
	if err := safeApply(ctx, tx, apply); err != nil {
		if rerr := errors.Join(exec("ROLLBACK TO w"), exec("RELEASE w")); rerr != nil {
			return fmt.Errorf("%w: %w (and rolling back: %v)", errTxBroken, err, rerr)
		}
		return err
	}
	if err := exec("RELEASE w"); err != nil {
		return fmt.Errorf("%w: release savepoint: %w", errTxBroken, describe(err))
	}
	return nil
}

// safeApply turns a panic in apply into that write's error, so one bad write
// cannot stop the committer every other writer waits on.
func safeApply(ctx context.Context, tx *sql.Tx, apply writeFunc) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("%w: panic in a write: %v", errTxBroken, v)
		}
	}()
	return apply(ctx, tx)
}

func (c *committer) failAll(batch []*writeReq, err error) {
	for _, req := range batch {
		req.err = err
	}
	c.classifyAll(batch)
}

// classifyAll gives failures of the machine (a full disk, an I/O error) the
// kind Unavailable, so users are told to come back rather than that the box
// is broken, and remembers the latest for the status page.
func (c *committer) classifyAll(batch []*writeReq) {
	for _, req := range batch {
		if req.err == nil {
			continue
		}
		req.err = unavailable(req.err)
		if failure.KindOf(req.err) == failure.Unavailable {
			c.lastFail.Store(&writeFailure{at: time.Now(), err: req.err})
		}
	}
}

// unavailable classifies err as Unavailable when the cause is the disk or
// the database file rather than the write itself.
func unavailable(err error) error {
	var fe *failure.Error
	if errors.As(err, &fe) {
		return err
	}
	switch {
	case IsDiskFull(err):
		return failure.Wrap(failure.Unavailable, err, "the box's disk is full")
	case isStorageFault(err):
		return failure.Wrap(failure.Unavailable, err, "the box's database is not available right now")
	}
	return err
}

// IsDiskFull reports whether err was caused by a full disk.
func IsDiskFull(err error) bool {
	var se sqlite3.Error
	if errors.As(err, &se) && se.Code == sqlite3.ErrFull {
		return true
	}
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT)
}

func isStorageFault(err error) bool {
	var se sqlite3.Error
	if !errors.As(err, &se) {
		return false
	}
	switch se.Code {
	case sqlite3.ErrIoErr, sqlite3.ErrReadonly, sqlite3.ErrCantOpen, sqlite3.ErrBusy, sqlite3.ErrLocked, sqlite3.ErrNomem, sqlite3.ErrProtocol:
		return true
	}
	return false
}

// grouped runs apply in the next group commit and returns once it is on
// disk, or with the reason it is not.
func (db *DB) grouped(ctx context.Context, apply writeFunc) error {
	err := db.commits.submit(ctx, apply)
	if err == nil {
		db.changes.signal()
	}
	return err
}

// WriteStats are counters of the group committer, for metrics.
type WriteStats struct {
	Batches  uint64 // transactions committed
	Writes   uint64 // writes committed (answers, …)
	Failures uint64 // writes that failed, for any reason
	// LastFailure is when a write last failed for want of disk or database,
	// and why; zero once a later batch commits.
	LastFailure      time.Time
	LastFailureError string
}

// WriteStats returns the group committer's counters.
func (db *DB) WriteStats() WriteStats {
	c := db.commits
	s := WriteStats{Batches: c.batches.Load(), Writes: c.writes.Load(), Failures: c.failures.Load()}
	if f := c.lastFail.Load(); f != nil {
		s.LastFailure, s.LastFailureError = f.at, f.err.Error()
	}
	return s
}

// Writable checks that the database can take a write now: it takes the
// write lock (BEGIN IMMEDIATE) and gives it back, without writing. A box
// whose disk is full still passes while free pages remain; /readyz also
// looks at the free space.
func (db *DB) Writable(ctx context.Context) error {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return unavailable(fmt.Errorf("store: begin: %w", describe(err)))
	}
	return tx.Rollback()
}
