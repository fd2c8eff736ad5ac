package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/mitstem/stembox/internal/event"
)

// What a restore does beyond putting the backup in place (backup.go),
// so that restoring never strands data (docs/install.md, "Restore"): it
// reads the database it replaces — how many events it held, how far the
// hub had acknowledged them — keeps that database's events the hub never
// acknowledged and the backup lacks (upstream_salvage, sent as they were),
// takes the events the hub holds and the backup does not as known (the
// backup's cursor moves up to what the replaced database knew was
// acknowledged), and starts a new epoch after the backup's last event, so
// that its new events never contradict what the hub holds.

// Replaced is what a restore found in the database it replaced.
type Replaced struct {
	Events   int64 // events it held
	LastSeq  int64
	Acked    int64  // the hub had acknowledged its events up to this seq
	Unsynced int64  // events the hub had not acknowledged (after Acked, and salvaged ones not yet sent)
	Salvaged int64  // of those, kept in the restored database and offered for sync
	InBackup int64  // of those, the backup holds already
	OtherBox string // its box id, when the backup is of another box (then nothing is salvaged)
	Err      error  // why it could not be read: its events are then only in the copy kept aside
}

// replacedDB is the database a restore replaces, open for reading.
type replacedDB struct {
	db      *sql.DB
	boxID   string
	acked   int64
	epochs  []Epoch
	link    *UpstreamLink
	hasSalv bool
}

func openReplaced(ctx context.Context, path string) (*replacedDB, Replaced, error) {
	var info Replaced
	db, err := sql.Open("sqlite3", "file:"+(&url.URL{Path: path}).EscapedPath()+"?_busy_timeout=10000")
	if err != nil {
		return nil, info, err
	}
	db.SetMaxOpenConns(1)
	r := &replacedDB{db: db}
	fail := func(err error) (*replacedDB, Replaced, error) {
		db.Close()
		return nil, info, describe(err)
	}
	if err := db.QueryRowContext(ctx, "SELECT count(*), coalesce(max(seq), 0) FROM events").Scan(&info.Events, &info.LastSeq); err != nil {
		return fail(err)
	}
	if err := db.QueryRowContext(ctx, "SELECT value FROM box_facts WHERE key = 'box_id'").Scan(&r.boxID); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fail(err)
	}
	if has(ctx, db, "upstream_state") {
		if err := db.QueryRowContext(ctx, "SELECT acked_seq FROM upstream_state WHERE id = 1").Scan(&r.acked); err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fail(err)
		}
		var l UpstreamLink
		var enrolled int64
		err := db.QueryRowContext(ctx, `SELECT hub_url, credential, school_id, school_name, region, hub_key, enrolled_ms FROM upstream_link WHERE id = 1`).
			Scan(&l.HubURL, &l.Credential, &l.SchoolID, &l.SchoolName, &l.Region, &l.HubKey, &enrolled)
		if err == nil {
			l.Enrolled = time.UnixMilli(enrolled)
			r.link = &l
		} else if !errors.Is(err, sql.ErrNoRows) {
			return fail(err)
		}
	}
	r.epochs = []Epoch{{}}
	if has(ctx, db, "upstream_epochs") {
		if r.epochs, err = epochs(ctx, db); err != nil {
			return fail(err)
		}
	}
	r.hasSalv = has(ctx, db, "upstream_salvage")
	info.Acked = min(r.acked, info.LastSeq)
	info.Unsynced = info.LastSeq - info.Acked
	if r.hasSalv {
		var n int64
		if err := db.QueryRowContext(ctx, "SELECT count(*) FROM upstream_salvage WHERE acked = 0").Scan(&n); err != nil {
			return fail(err)
		}
		info.Unsynced += n
	}
	return r, info, nil
}

func has(ctx context.Context, db *sql.DB, table string) bool {
	var n int
	db.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?", table).Scan(&n)
	return n > 0
}

// idAt returns the id of the event at seq in q ("" if none).
func idAt(ctx context.Context, q querier, seq int64) (string, error) {
	var id string
	err := q.QueryRowContext(ctx, "SELECT id FROM events WHERE seq = ?", seq).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return id, err
}

// salvage copies the replaced database's events the hub has not
// acknowledged, and its own salvaged events not yet sent, into tx's
// upstream_salvage, but for those the restored database holds.
func (r *replacedDB) salvage(ctx context.Context, tx *sql.Tx, info *Replaced) error {
	after := r.acked
	for {
		rows, err := r.db.QueryContext(ctx, "SELECT "+eventColumns+" FROM events WHERE seq > ? ORDER BY seq LIMIT 2000", after)
		if err != nil {
			return err
		}
		var evs []event.Event
		for rows.Next() {
			ev, err := scanEvent(rows)
			if err != nil {
				rows.Close()
				return err
			}
			evs = append(evs, ev)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if len(evs) == 0 {
			break
		}
		for _, ev := range evs {
			if err := r.keep(ctx, tx, salvageRow{epoch: epochOf(r.epochs, ev.Seq), ev: ev}, info); err != nil {
				return err
			}
		}
		after = evs[len(evs)-1].Seq
	}
	if !r.hasSalv {
		return nil
	}
	rows, err := r.db.QueryContext(ctx, "SELECT epoch, base_seq, parent, "+eventColumns+" FROM upstream_salvage WHERE acked = 0 ORDER BY rowid")
	if err != nil {
		return err
	}
	defer rows.Close()
	var pending []salvageRow
	for rows.Next() {
		var s salvageRow
		var wall, mono int64
		var payload string
		if err := rows.Scan(&s.epoch.Name, &s.epoch.Base, &s.epoch.Parent, &s.ev.Seq, &s.ev.ID, &s.ev.Kind, &s.ev.Actor, &wall, &s.ev.BootID, &mono, &payload); err != nil {
			return err
		}
		s.ev.Wall, s.ev.Uptime, s.ev.Payload = time.UnixMilli(wall), time.Duration(mono)*time.Millisecond, []byte(payload)
		pending = append(pending, s)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for _, s := range pending {
		if err := r.keep(ctx, tx, s, info); err != nil {
			return err
		}
	}
	return nil
}

func (r *replacedDB) keep(ctx context.Context, tx *sql.Tx, s salvageRow, info *Replaced) error {
	kept, err := insertSalvage(ctx, tx, s)
	if err != nil {
		return err
	}
	if kept {
		info.Salvaged++
	} else {
		info.InBackup++
	}
	return nil
}

// reconcile brings the restored database at next in line with what the
// replaced one (nil if none, or unreadable) knew; see the top of this file.
func reconcile(ctx context.Context, next string, old *replacedDB, res *RestoreResult) error {
	db, err := open(ctx, next, nil, "FULL")
	if err != nil {
		return err
	}
	defer db.Close()
	boxID, err := db.BoxID(ctx)
	if err != nil {
		return err
	}
	if old != nil && old.boxID != "" && old.boxID != boxID {
		res.Replaced.OtherBox = old.boxID
		old = nil // another box's events are not this box's to send
	}
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return describe(err)
	}
	defer tx.Rollback()
	var last, acked int64
	if err := tx.QueryRowContext(ctx, "SELECT coalesce(max(seq), 0) FROM events").Scan(&last); err != nil {
		return err
	}
	if old != nil {
		if err := old.takeLink(ctx, tx); err != nil {
			return err
		}
		if err := old.takeEpochs(ctx, tx, last); err != nil {
			return err
		}
	}
	if err := tx.QueryRowContext(ctx, "SELECT acked_seq FROM upstream_state WHERE id = 1").Scan(&acked); err != nil {
		return err
	}
	list, err := epochs(ctx, tx)
	if err != nil {
		return err
	}
	fork := true
	if old != nil {
		if err := old.salvage(ctx, tx, &res.Replaced); err != nil {
			return fmt.Errorf("salvage the replaced database's events: %w", describe(err))
		}
		// The hub holds the replaced database's events up to its cursor:
		// those the backup holds too are known to be there.
		if k := min(old.acked, last); k > acked {
			mine, err1 := idAt(ctx, tx, k)
			theirs, err2 := idAt(ctx, old.db, k)
			if err := errors.Join(err1, err2); err != nil {
				return err
			}
			if mine != "" && mine == theirs && epochOf(list, k).Name == epochOf(old.epochs, k).Name {
				if _, err := tx.ExecContext(ctx, "UPDATE upstream_state SET acked_seq = ? WHERE id = 1", k); err != nil {
					return err
				}
				acked = k
			}
		}
		// A backup that holds every event of the database it replaces
		// needs no new epoch: nothing the hub may hold follows its last.
		oldLast := res.Replaced.LastSeq
		if oldLast <= last && res.Replaced.Salvaged == 0 {
			mine, err1 := idAt(ctx, tx, oldLast)
			theirs, err2 := idAt(ctx, old.db, oldLast)
			if err := errors.Join(err1, err2); err != nil {
				return err
			}
			fork = mine != theirs
		}
	}
	if acked > last {
		// A cursor past the backup's own events (an older box took the
		// hub's word for more than it had): it holds no more than those.
		if _, err := tx.ExecContext(ctx, "UPDATE upstream_state SET acked_seq = ? WHERE id = 1", last); err != nil {
			return err
		}
		acked = last
	}
	res.AckedSeq = acked
	if fork {
		e, err := startEpoch(ctx, tx, db.NewID(), last, "restored from a backup", time.Now())
		if err != nil {
			return err
		}
		res.Epoch = e
	}
	return tx.Commit()
}

// takeEpochs gives the restored database the epochs the replaced one
// started among the events both hold (the backup was taken before the
// replaced database learned it had to start them): those events went up
// in those epochs, and must be known so.
func (r *replacedDB) takeEpochs(ctx context.Context, tx *sql.Tx, last int64) error {
	mine, err1 := idAt(ctx, tx, last)
	theirs, err2 := idAt(ctx, r.db, last)
	if err := errors.Join(err1, err2); err != nil || last == 0 || mine != theirs {
		return err // not a prefix of the replaced database's events
	}
	for _, e := range r.epochs[1:] {
		if e.Base >= last {
			break
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO upstream_epochs (epoch, base_seq, parent, started_ms, reason) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (epoch) DO NOTHING`, e.Name, e.Base, e.Parent, e.Started.UnixMilli(), e.Reason); err != nil {
			return err
		}
	}
	return nil
}

// takeLink keeps the replaced database's link to the hub when it is newer
// than the backup's (the box was enrolled again after the backup): the
// credential the backup holds may have been revoked since.
func (r *replacedDB) takeLink(ctx context.Context, tx *sql.Tx) error {
	if r.link == nil {
		return nil
	}
	var enrolled int64
	var school string
	err := tx.QueryRowContext(ctx, "SELECT enrolled_ms, school_id FROM upstream_link WHERE id = 1").Scan(&enrolled, &school)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	if err == nil && enrolled >= r.link.Enrolled.UnixMilli() {
		if school != r.link.SchoolID {
			r.acked = 0 // its cursor speaks of another school's hub
		}
		return nil
	}
	l := r.link
	_, err = tx.ExecContext(ctx, `INSERT INTO upstream_link (id, hub_url, credential, school_id, school_name, region, hub_key, enrolled_ms)
		VALUES (1, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET hub_url = excluded.hub_url, credential = excluded.credential, school_id = excluded.school_id,
			school_name = excluded.school_name, region = excluded.region, hub_key = excluded.hub_key, enrolled_ms = excluded.enrolled_ms`,
		l.HubURL, l.Credential, l.SchoolID, l.SchoolName, l.Region, l.HubKey, l.Enrolled.UnixMilli())
	if err == nil && school != "" && school != l.SchoolID {
		// The backup's cursor spoke of another school's hub.
		_, err = tx.ExecContext(ctx, "UPDATE upstream_state SET acked_seq = 0 WHERE id = 1")
	}
	return err
}
