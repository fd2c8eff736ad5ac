package upstream

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"sort"
	"time"

	"github.com/mitstem/stembox/internal/ops"
	"github.com/mitstem/stembox/internal/upstream/wire"
)

// Limits of what a box tells the hub of itself, so a status always fits
// wire.MaxStatusBytes.
const (
	maxReportedProblems = 50
	maxReportedPacks    = 200
	maxReportedText     = 500 // bytes of an error message
	// statusEvery is how often a status the hub already has is sent again
	// (for its disk free and backlog); a changed one goes at the next sync.
	statusEvery = time.Hour
)

// sentStatus is what the hub last took: a status that says the same (its
// disk free and backlog aside) is not sent again before statusEvery, since
// a sync runs after every burst of answers and the uplink may be 2G.
type sentStatus struct {
	same string // the status with DiskFree and Backlog zeroed
	at   time.Time
}

// report tells the hub how the box stands (wire.BoxStatus), after a push
// that went through, or one the hub refused (syncErr is then the push's
// error, else the pull's). It never fails the sync: a hub older than the
// endpoint answers 404, which is ignored; any other failure is logged.
func (s *Syncer) report(ctx context.Context, c *hubClient, syncErr error) {
	st, err := s.boxStatus(ctx, syncErr)
	if err != nil {
		s.log.Warn("read the box's status for the hub", "err", err)
		return
	}
	body, err := json.Marshal(st)
	if err != nil {
		s.log.Warn("encode the box's status for the hub", "err", err)
		return
	}
	st.DiskFree, st.Backlog = 0, 0
	st.Clock = coarse(st.Clock)
	same, _ := json.Marshal(st)
	now := time.Now()
	s.mu.Lock()
	last := s.sentStatus
	s.mu.Unlock()
	if last.same == string(same) && now.Sub(last.at) < statusEvery {
		return
	}
	err = c.post(ctx, wire.PathStatus, body, "application/json")
	var he *hubError
	switch {
	case err == nil:
		s.mu.Lock()
		s.sentStatus = sentStatus{same: string(same), at: now}
		s.mu.Unlock()
	case errors.As(err, &he) && he.status == http.StatusNotFound:
		s.log.Debug("the hub takes no status from boxes (an older hub)")
	default:
		s.log.Warn("tell the hub the box's status", "err", err)
	}
}

// coarse is a box's clock status to the second, for telling whether it
// changed: every sync moves the hub's estimate by a few milliseconds.
func coarse(c *wire.ClockStatus) *wire.ClockStatus {
	if c == nil {
		return nil
	}
	out := *c
	out.DriftMS, out.ErrMS = out.DriftMS/1000, out.ErrMS/1000
	out.Boots = append([]wire.BootTime(nil), c.Boots...)
	for i := range out.Boots {
		out.Boots[i].StartMS, out.Boots[i].ErrMS = out.Boots[i].StartMS/1000, out.Boots[i].ErrMS/1000
	}
	return &out
}

// post sends a small body whose answer has none worth reading.
func (c *hubClient) post(ctx context.Context, path string, body []byte, contentType string) error {
	resp, cancel, err := c.send(ctx, http.MethodPost, path, body, map[string]string{"Content-Type": contentType})
	if err != nil {
		return err
	}
	defer cancel()
	defer resp.Body.Close()
	n, err := io.Copy(io.Discard, io.LimitReader(resp.Body, 16<<10))
	c.received += n
	return err
}

// boxStatus gathers what the box tells the hub.
func (s *Syncer) boxStatus(ctx context.Context, syncErr error) (wire.BoxStatus, error) {
	st := wire.BoxStatus{Version: s.cfg.Version, Packs: map[string]string{}, Subjects: map[string]string{}, DiskFree: -1}
	read, err := ReadStatus(ctx, s.db)
	if err != nil {
		return st, err
	}
	st.Backlog = read.Backlog
	st.Clock = s.clockStatus(ctx)
	if syncErr != nil {
		st.LastError = clip(syncErr.Error())
	}
	s.mu.Lock()
	for _, p := range s.pulls.problems {
		st.Problems = append(st.Problems, wire.PackProblem{Pack: p.Pack, Version: p.Version, Error: clip(p.Error)})
	}
	s.mu.Unlock()
	if s.lib != nil {
		for _, p := range s.lib.Packs() {
			if len(st.Packs) < maxReportedPacks {
				st.Packs[p.Manifest.ID] = p.Manifest.Version
				st.Subjects[p.Manifest.ID] = p.Manifest.Subject
			}
		}
		for id, perr := range s.lib.Problems() {
			st.Problems = append(st.Problems, wire.PackProblem{Pack: id, Error: clip(perr.Error())})
		}
		if d, err := ops.DiskUsage(s.lib.Dir()); err == nil {
			st.DiskFree, st.DiskTotal = int64(d.Avail), int64(d.Total)
		}
	}
	sort.Slice(st.Problems, func(i, j int) bool {
		a, b := st.Problems[i], st.Problems[j]
		if a.Pack != b.Pack {
			return a.Pack < b.Pack
		}
		return a.Version > b.Version // the sync's (with a version) before the library's
	})
	if len(st.Problems) > maxReportedProblems {
		st.Problems = st.Problems[:maxReportedProblems]
	}
	return st, nil
}

// clip shortens a message to maxReportedText bytes, on a rune boundary.
func clip(msg string) string {
	if len(msg) <= maxReportedText {
		return msg
	}
	cut := maxReportedText
	for cut > 0 && msg[cut]&0xC0 == 0x80 {
		cut--
	}
	return msg[:cut] + "…"
}
