package upstream

import (
	"time"
)

// The pull runs on its own schedule, apart from the push: the catalogue
// at most every CatalogueEvery (or when an admin asks), sooner again after
// a pull that was cut off (a download error, the hub unreachable), backing
// off from MinBackoff up to CatalogueEvery. A pack the box refused
// (untrusted, broken, older) is remembered by its manifest's hash and not
// downloaded again — until the box trusts another key, or restarts.

// PullError is a sync whose events went up but whose packs did not all
// come down. It does not count as a failed sync: the push keeps its pace.
type PullError struct{ Err error }

func (e *PullError) Error() string { return e.Err.Error() }
func (e *PullError) Unwrap() error { return e.Err }

// PackError is a pack of the hub's catalogue that the box wants but did
// not install at the last pull, and why.
type PackError struct {
	Pack    string `json:"pack"`
	Version string `json:"version"`
	Error   string `json:"error"`
}

type pullState struct {
	next     time.Time // the next pull is due then
	failures int       // pulls cut off in a row
	problems []PackError
	refused  map[string]refusal // by manifest hash
}

// refusal is why the box refused a pack of the catalogue, and what the
// box trusted then (the keyring's generation): a key trusted since may
// change its mind.
type refusal struct {
	err  error
	keys uint64
}

// trustedKeys reads the trusted keys again (pack install --trust adds
// some to DATA/trusted-keys while the box runs, a key list adds some) and
// returns the keyring's generation.
func (s *Syncer) trustedKeys() uint64 {
	if s.cfg.Keys == nil {
		return 0
	}
	if err := s.cfg.Keys.Refresh(); err != nil {
		s.log.Warn("read the trusted keys again", "err", err)
	}
	return s.cfg.Keys.Generation()
}

// refusedBefore returns why the pack with this manifest hash was refused,
// if it was while the box trusted what it trusts now.
func (s *Syncer) refusedBefore(hash string, keys uint64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r, ok := s.pulls.refused[hash]; ok && r.keys == keys {
		return r.err
	}
	return nil
}

func (s *Syncer) refuse(hash string, err error, keys uint64) {
	s.mu.Lock()
	s.pulls.refused[hash] = refusal{err: err, keys: keys}
	s.mu.Unlock()
}

// pulled schedules the next pull: soon, backing off, after a pull that was
// cut off; else after CatalogueEvery. problems are the packs not installed.
func (s *Syncer) pulled(cutOff bool, problems []PackError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if problems != nil || !cutOff { // a catalogue that did not come says nothing of the packs
		s.pulls.problems = problems
	}
	if !cutOff {
		s.pulls.failures = 0
		s.pulls.next = time.Now().Add(s.cfg.CatalogueEvery)
		return
	}
	s.pulls.failures++
	d := s.cfg.MinBackoff
	for i := 1; i < s.pulls.failures && d < s.cfg.CatalogueEvery; i++ {
		d *= 2
	}
	s.pulls.next = time.Now().Add(min(d, s.cfg.CatalogueEvery))
}
