package upstream

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/mitstem/stembox/internal/store"
	"github.com/mitstem/stembox/internal/upstream/wire"
)

// Status is where sync stands, for the admin page and `stembox sync
// status`.
type Status struct {
	BoxID        string
	Enrolled     bool
	HubURL       string // "" when enrolled by file (USB only)
	SchoolName   string
	Region       string
	CredentialID string // never the secret
	LastSeq      int64  // the box's newest event
	AckedSeq     int64  // the hub holds every event up to here
	Backlog      int64  // events not yet acknowledged (salvaged ones included)
	Salvaged     int64  // of Backlog, events kept from a database a restore replaced
	Epoch        string // the epoch the box's new events go up in ("" until a restore or a divergence)
	LastAttempt  time.Time
	LastSuccess  time.Time
	LastError    string
	LastErrorAt  time.Time
	BytesSent    int64
	BytesRecv    int64
	EventsSent   int64
	Download     *Progress   // a pack download under way
	Running      bool        // a sync is under way (known in the serving process only)
	Packs        []PackError // packs of the hub not installed at the last pull, and why (serving process only)
	// Refused is why the hub refuses the box's events (a 400, 409 or 413
	// that did not resolve, or salvaged events it refused), since
	// RefusedSince; "" once a push goes through whole (serving process
	// only).
	Refused      string
	RefusedSince time.Time
}

// ReadStatus reads where sync stands from the box's database (it works
// beside a running box, from another process).
func ReadStatus(ctx context.Context, db *store.DB) (Status, error) {
	var s Status
	var err error
	if s.BoxID, err = db.BoxID(ctx); err != nil {
		return Status{}, err
	}
	link, err := db.UpstreamLink(ctx)
	switch {
	case err == nil:
		s.Enrolled, s.HubURL, s.SchoolName, s.Region = true, link.HubURL, link.SchoolName, link.Region
		if c, err := wire.ParseCredential(link.Credential); err == nil {
			s.CredentialID = c.ID
		}
	case !errors.Is(err, store.ErrNotEnrolled):
		return Status{}, err
	}
	st, err := db.UpstreamState(ctx)
	if err != nil {
		return Status{}, err
	}
	if s.LastSeq, err = db.LastSeq(ctx); err != nil {
		return Status{}, err
	}
	s.AckedSeq = st.AckedSeq
	if s.Salvaged, err = db.SalvagePending(ctx); err != nil {
		return Status{}, err
	}
	s.Backlog = max(0, s.LastSeq-st.AckedSeq) + s.Salvaged
	if s.Epoch, err = currentEpoch(ctx, db); err != nil {
		return Status{}, err
	}
	s.LastAttempt, s.LastSuccess, s.LastError, s.LastErrorAt = st.LastAttempt, st.LastSuccess, st.LastError, st.LastErrorAt
	s.BytesSent, s.BytesRecv, s.EventsSent = st.BytesSent, st.BytesReceived, st.EventsSent
	if st.Download != "" {
		var p Progress
		if json.Unmarshal([]byte(st.Download), &p) == nil {
			s.Download = &p
		}
	}
	return s, nil
}

// Status is ReadStatus with what only the running loop knows.
func (s *Syncer) Status(ctx context.Context) (Status, error) {
	st, err := ReadStatus(ctx, s.db)
	if err != nil {
		return Status{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st.Running = s.running
	st.Packs = append([]PackError(nil), s.pulls.problems...)
	st.Refused, st.RefusedSince = s.refused.err, s.refused.since
	if s.download != nil {
		p := *s.download
		st.Download = &p
	} else {
		st.Download = nil
	}
	return st, nil
}

func currentEpoch(ctx context.Context, db *store.DB) (string, error) {
	list, err := db.Epochs(ctx)
	if err != nil {
		return "", err
	}
	return list[len(list)-1].Name, nil
}
