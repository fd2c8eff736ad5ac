package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/mitstem/stembox/internal/failure"
)

// Upstream sync's share of the box's database (migration 0004): the link to
// the hub, the acknowledged cursor and the counters `stembox sync status`
// and the admin page show, and a notification when something is written.
// Its own writes go straight to the write connection and do not notify, so
// the sync loop is not woken by its own bookkeeping.

// changeNotifier lets a reader wait for the next commit, as litestream's
// DB.Notify does: Wait returns a channel that is closed at the next commit.
// The zero value is ready.
type changeNotifier struct {
	mu sync.Mutex
	ch chan struct{}
}

func (n *changeNotifier) wait() <-chan struct{} {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.ch == nil {
		n.ch = make(chan struct{})
	}
	return n.ch
}

func (n *changeNotifier) signal() {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.ch != nil {
		close(n.ch)
		n.ch = nil
	}
}

// Changes returns a channel that is closed once a write (a new event, most
// often) has been committed after this call. Take a new channel after each
// wake-up.
func (db *DB) Changes() <-chan struct{} { return db.changes.wait() }

// UpstreamLink is how the box reaches the hub.
type UpstreamLink struct {
	HubURL     string // "" when enrolled by file: bundles only
	Credential string // sbx1.ID.SECRET
	SchoolID   string
	SchoolName string
	Region     string
	HubKey     string // base64 Ed25519 public key that signs acknowledgements
	Enrolled   time.Time
}

// ErrNotEnrolled is returned when the box has no link to a hub.
var ErrNotEnrolled = failure.Errorf(failure.NotFound, "this box is not enrolled with a hub")

// UpstreamLink returns the box's link to the hub, or ErrNotEnrolled.
func (db *DB) UpstreamLink(ctx context.Context) (UpstreamLink, error) {
	var l UpstreamLink
	var enrolled int64
	err := db.read.QueryRowContext(ctx, `SELECT hub_url, credential, school_id, school_name, region, hub_key, enrolled_ms
		FROM upstream_link WHERE id = 1`).Scan(&l.HubURL, &l.Credential, &l.SchoolID, &l.SchoolName, &l.Region, &l.HubKey, &enrolled)
	if errors.Is(err, sql.ErrNoRows) {
		return UpstreamLink{}, ErrNotEnrolled
	}
	if err != nil {
		return UpstreamLink{}, fmt.Errorf("store: upstream link: %w", err)
	}
	l.Enrolled = time.UnixMilli(enrolled)
	return l, nil
}

// SetUpstreamLink stores the box's link to the hub, replacing any other.
// A link to another school starts the cursor again from 0: that hub holds
// none of the box's events.
func (db *DB) SetUpstreamLink(ctx context.Context, l UpstreamLink) error {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: begin: %w", describe(err))
	}
	defer tx.Rollback()
	var oldSchool string
	err = tx.QueryRowContext(ctx, "SELECT school_id FROM upstream_link WHERE id = 1").Scan(&oldSchool)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("store: upstream link: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO upstream_link (id, hub_url, credential, school_id, school_name, region, hub_key, enrolled_ms)
		VALUES (1, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET hub_url = excluded.hub_url, credential = excluded.credential, school_id = excluded.school_id,
			school_name = excluded.school_name, region = excluded.region, hub_key = excluded.hub_key, enrolled_ms = excluded.enrolled_ms`,
		l.HubURL, l.Credential, l.SchoolID, l.SchoolName, l.Region, l.HubKey, l.Enrolled.UnixMilli()); err != nil {
		return fmt.Errorf("store: set upstream link: %w", describe(err))
	}
	if oldSchool != l.SchoolID {
		if _, err := tx.ExecContext(ctx, "UPDATE upstream_state SET acked_seq = 0, last_error = '', download = '' WHERE id = 1"); err != nil {
			return fmt.Errorf("store: set upstream link: %w", describe(err))
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: set upstream link: %w", describe(err))
	}
	return nil
}

// UpstreamState is where upstream sync stands.
type UpstreamState struct {
	AckedSeq      int64 // the hub holds every event up to here
	LastAttempt   time.Time
	LastSuccess   time.Time
	LastError     string // "" once a sync succeeds
	LastErrorAt   time.Time
	BytesSent     int64
	BytesReceived int64
	EventsSent    int64
	Download      string // JSON of the pack download under way, "" for none
}

func msTime(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms)
}

// UpstreamState returns where upstream sync stands.
func (db *DB) UpstreamState(ctx context.Context) (UpstreamState, error) {
	var s UpstreamState
	var attempt, success, errAt int64
	err := db.read.QueryRowContext(ctx, `SELECT acked_seq, last_attempt_ms, last_success_ms, last_error, last_error_ms,
		bytes_sent, bytes_received, events_sent, download FROM upstream_state WHERE id = 1`).
		Scan(&s.AckedSeq, &attempt, &success, &s.LastError, &errAt, &s.BytesSent, &s.BytesReceived, &s.EventsSent, &s.Download)
	if err != nil {
		return UpstreamState{}, fmt.Errorf("store: upstream state: %w", err)
	}
	s.LastAttempt, s.LastSuccess, s.LastErrorAt = msTime(attempt), msTime(success), msTime(errAt)
	return s, nil
}

// UpstreamTraffic is what one exchange with the hub cost.
type UpstreamTraffic struct {
	BytesSent, BytesReceived, Events int64
}

// AckUpstream records the hub's answer to a batch: the hub now holds every
// event up to acked. The cursor is set to acked even when that is lower
// than before (a hub restored from a backup): the box then sends those
// events again, and the hub keeps them once.
func (db *DB) AckUpstream(ctx context.Context, acked int64, t UpstreamTraffic, at time.Time) error {
	_, err := db.write.ExecContext(ctx, `UPDATE upstream_state SET acked_seq = ?, last_attempt_ms = ?, last_success_ms = ?,
		last_error = '', bytes_sent = bytes_sent + ?, bytes_received = bytes_received + ?, events_sent = events_sent + ? WHERE id = 1`,
		acked, at.UnixMilli(), at.UnixMilli(), t.BytesSent, t.BytesReceived, t.Events)
	if err != nil {
		return fmt.Errorf("store: upstream ack: %w", describe(err))
	}
	return nil
}

// AdvanceUpstream moves the cursor forward to acked (an acknowledgement
// carried back on a USB stick); it never moves it back. It reports whether
// it moved.
func (db *DB) AdvanceUpstream(ctx context.Context, acked int64, at time.Time) (bool, error) {
	res, err := db.write.ExecContext(ctx, `UPDATE upstream_state SET acked_seq = ?, last_success_ms = ?, last_error = ''
		WHERE id = 1 AND acked_seq < ?`, acked, at.UnixMilli(), acked)
	if err != nil {
		return false, fmt.Errorf("store: upstream ack: %w", describe(err))
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// UpstreamSucceeded records an exchange with the hub that went well but
// moved no cursor (nothing to send, a catalogue pulled).
func (db *DB) UpstreamSucceeded(ctx context.Context, t UpstreamTraffic, at time.Time) error {
	_, err := db.write.ExecContext(ctx, `UPDATE upstream_state SET last_attempt_ms = ?, last_success_ms = ?, last_error = '',
		bytes_sent = bytes_sent + ?, bytes_received = bytes_received + ? WHERE id = 1`,
		at.UnixMilli(), at.UnixMilli(), t.BytesSent, t.BytesReceived)
	if err != nil {
		return fmt.Errorf("store: upstream state: %w", describe(err))
	}
	return nil
}

// UpstreamFailed records a failed exchange and why.
func (db *DB) UpstreamFailed(ctx context.Context, reason string, t UpstreamTraffic, at time.Time) error {
	if len(reason) > 1000 {
		reason = reason[:1000]
	}
	_, err := db.write.ExecContext(ctx, `UPDATE upstream_state SET last_attempt_ms = ?, last_error = ?, last_error_ms = ?,
		bytes_sent = bytes_sent + ?, bytes_received = bytes_received + ? WHERE id = 1`,
		at.UnixMilli(), reason, at.UnixMilli(), t.BytesSent, t.BytesReceived)
	if err != nil {
		return fmt.Errorf("store: upstream state: %w", describe(err))
	}
	return nil
}

// SetUpstreamDownload records the pack download under way ("" when none),
// so `stembox sync status` can show it from another process.
func (db *DB) SetUpstreamDownload(ctx context.Context, progress string) error {
	if _, err := db.write.ExecContext(ctx, "UPDATE upstream_state SET download = ? WHERE id = 1", progress); err != nil {
		return fmt.Errorf("store: upstream download: %w", describe(err))
	}
	return nil
}
