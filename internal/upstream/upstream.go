// Package upstream sends a box's events to the hub and brings content packs
// back: a loop in the style of litestream's replica monitor — wake on a
// timer or when new events are committed, push batches after the
// acknowledged cursor, pull the catalogue, back off (capped, exponential,
// jittered) while the hub cannot be reached — plus enrollment and the
// sneakernet bundles that do the same on a USB stick. The wire format and
// the protocol are in internal/upstream/wire and docs/sync-protocol.md.
package upstream

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/mitstem/stembox/internal/content"
	"github.com/mitstem/stembox/internal/store"
	"github.com/mitstem/stembox/internal/timekeeper"
)

// Defaults of the loop.
const (
	DefaultEvery          = 5 * time.Minute  // sync this often when nothing happens
	DefaultMinGap         = 10 * time.Second // after new events, wait this long, so a class's answers go together
	DefaultMinBackoff     = 5 * time.Second  // the first wait after a failure
	DefaultMaxBackoff     = 15 * time.Minute // the longest wait after failures
	DefaultBatchSize      = 2000             // events a batch
	DefaultCatalogueEvery = time.Hour        // pull the catalogue this often
	// DefaultRequestTimeout bounds the whole of a request with a small
	// body and answer (a batch, the catalogue, enrollment), from sending
	// to the last byte of the answer, plus a second per KiB sent: enough
	// for 2G, short enough that a hub that stalls does not hold the loop.
	DefaultRequestTimeout = time.Minute
	// DefaultStallTimeout ends a download that receives nothing for this
	// long, headers included, so it resumes on the next try instead of
	// hanging; a slow download that keeps receiving goes on.
	DefaultStallTimeout = 90 * time.Second
	minBatchSize        = 50
)

// Config says how a box syncs.
type Config struct {
	Every          time.Duration // 0: DefaultEvery
	MinGap         time.Duration // 0: DefaultMinGap
	MinBackoff     time.Duration // the first wait after a failure; 0: DefaultMinBackoff
	MaxBackoff     time.Duration // 0: DefaultMaxBackoff
	BatchSize      int           // 0: DefaultBatchSize
	CatalogueEvery time.Duration // 0: DefaultCatalogueEvery
	RequestTimeout time.Duration // 0: DefaultRequestTimeout
	StallTimeout   time.Duration // 0: DefaultStallTimeout

	// HubURL and EnrollToken enroll the box at start if it is not enrolled
	// yet (stembox serve --hub URL --enroll-token TOKEN).
	HubURL, EnrollToken string
	BoxName             string // how the box calls itself to the hub's operator

	Keys     *content.Keyring // pack signers the box trusts: packs signed otherwise are not downloaded
	CacheDir string           // partial downloads, resumed across restarts
	Client   *http.Client     // nil: a client with sensible timeouts
	Version  string           // the box's version, in the User-Agent

	// Time is the box's time keeping: the hub's time in each answer sets
	// it, and the status tells the hub of it. nil: neither.
	Time *timekeeper.Keeper

	// Contributions are the box's teachers' packs, sent to the hub after
	// the events (contrib.go); the zero value sends none.
	Contributions Contributions
}

func (c *Config) defaults() {
	if c.Every <= 0 {
		c.Every = DefaultEvery
	}
	if c.MinGap <= 0 {
		c.MinGap = DefaultMinGap
	}
	if c.MinBackoff <= 0 {
		c.MinBackoff = DefaultMinBackoff
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = DefaultMaxBackoff
	}
	if c.BatchSize <= 0 {
		c.BatchSize = DefaultBatchSize
	}
	if c.CatalogueEvery <= 0 {
		c.CatalogueEvery = DefaultCatalogueEvery
	}
	if c.RequestTimeout <= 0 {
		c.RequestTimeout = DefaultRequestTimeout
	}
	if c.StallTimeout <= 0 {
		c.StallTimeout = DefaultStallTimeout
	}
	if c.CacheDir == "" {
		c.CacheDir = filepath.Join(os.TempDir(), "stembox-downloads")
	}
	if c.Client == nil {
		c.Client = &http.Client{Transport: &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			ResponseHeaderTimeout: 2 * time.Minute, // a batch on 2G, and the hub's commit
			IdleConnTimeout:       90 * time.Second,
			TLSHandshakeTimeout:   30 * time.Second,
			MaxIdleConnsPerHost:   2,
		}}
	}
}

// Syncer is a box's link to the hub.
type Syncer struct {
	cfg Config
	db  *store.DB
	lib *content.Library
	log *slog.Logger

	syncMu sync.Mutex // one sync at a time
	poke   chan struct{}

	mu             sync.Mutex
	running        bool
	download       *Progress // the pack download under way
	batchSize      int       // shrinks when the hub says a batch is too large
	lastLogged     string
	lastLoggedAt   time.Time
	pulls          pullState                 // the pull's own schedule and problems (pullstate.go)
	salvage        salvageState              // the salvage's schedule after a refusal (salvage.go)
	refused        refusedState              // since when the hub refuses the box's events, and why
	sentStatus     sentStatus                // what the hub last took of the box's status (report.go)
	keysRefused    string                    // the ETag of the hub's key list the box refused (keys.go) …
	keysRefusedErr error                     // … and why
	contribRefused map[string]contribRefusal // contributions the hub refused, by SHA-256 (contrib.go)
}

// New returns a syncer for the box's database and library.
func New(db *store.DB, lib *content.Library, cfg Config, logger *slog.Logger) *Syncer {
	cfg.defaults()
	return &Syncer{cfg: cfg, db: db, lib: lib, log: logger, poke: make(chan struct{}, 1), batchSize: cfg.BatchSize, pulls: pullState{refused: map[string]refusal{}}}
}

// Poke asks the loop to sync now, catalogue included (the admin page's
// "sync now").
func (s *Syncer) Poke() {
	s.mu.Lock()
	s.pulls.next, s.salvage.next = time.Time{}, time.Time{}
	s.contribRefused = nil // an operator may have reset the box's key meanwhile
	s.mu.Unlock()
	select {
	case s.poke <- struct{}{}:
	default:
	}
}

// Run is the loop; it ends with ctx.
func (s *Syncer) Run(ctx context.Context) error {
	failures := 0
	for {
		// Take the notification before syncing, so events committed while
		// the sync runs wake the next one.
		changes := s.db.Changes()
		err := s.Sync(ctx)
		if ctx.Err() != nil {
			return nil
		}
		var wait time.Duration
		var pe *PullError
		var se *SalvageError
		switch {
		case err == nil, errors.As(err, &pe), errors.As(err, &se):
			// A pack that did not come, or salvaged events the hub
			// refused, is reported and retried on its own schedule: it
			// never slows the push.
			failures = 0
			wait = s.cfg.Every
		case errors.Is(err, errIdle):
			failures = 0
			wait = s.cfg.Every
			changes = nil // nothing to sync to: new events change nothing
		default:
			failures++
			wait = s.backoff(failures, err)
			changes = nil // do not hammer a hub that fails: wait out the backoff
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil
		case <-s.poke:
		case <-timer.C:
		case <-changes:
			// Let the rest of a class's answers arrive, so they travel
			// together (a poke cuts this short).
			gap := time.NewTimer(s.cfg.MinGap)
			select {
			case <-ctx.Done():
				gap.Stop()
				timer.Stop()
				return nil
			case <-s.poke:
			case <-gap.C:
			}
			gap.Stop()
		}
		timer.Stop()
	}
}

// backoff is the wait after the n-th failure in a row: MinBackoff doubling
// up to MaxBackoff, with full jitter in its upper half so that a thousand boxes
// coming back at once do not return together; at least what the hub asked
// for in Retry-After.
func (s *Syncer) backoff(n int, err error) time.Duration {
	d := s.cfg.MinBackoff
	for i := 1; i < n && d < s.cfg.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, s.cfg.MaxBackoff)
	d = d/2 + rand.N(d/2+1)
	var he *hubError
	if errors.As(err, &he) && he.retryAfter > d {
		d = he.retryAfter
	}
	if errors.As(err, &he) && (he.status == http.StatusUnauthorized || he.status == http.StatusForbidden || he.status == http.StatusConflict) {
		d = s.cfg.MaxBackoff // a person must act; retry rarely
	}
	return d
}

// refusedData reports whether the hub took the box's credential but
// refused its events (a 400, 409 or 413 that did not resolve), which
// keeps them on the box until a person acts.
func refusedData(err error) bool {
	var he *hubError
	if !errors.As(err, &he) {
		return false
	}
	switch he.status {
	case http.StatusBadRequest, http.StatusConflict, http.StatusRequestEntityTooLarge:
		return true
	}
	return false
}

// errIdle means there is nothing to sync with: the box is not enrolled,
// or enrolled by file for bundles only.
var errIdle = errors.New("upstream: not enrolled with a hub")

// Sync runs one sync now: enroll if asked and not enrolled, push every
// event after the cursor, then, when due, pull the catalogue and the packs
// the box should have. It waits for a sync already running. A push that
// failed is its error; when only the pull failed (a pack untrusted, broken
// or cut off) the error is a *PullError: the events went up; when the hub
// refused only salvaged events, a *SalvageError (both: errors.Join).
func (s *Syncer) Sync(ctx context.Context) error {
	s.syncMu.Lock()
	defer s.syncMu.Unlock()
	s.setRunning(true)
	defer s.setRunning(false)
	link, err := s.db.UpstreamLink(ctx)
	if errors.Is(err, store.ErrNotEnrolled) && s.cfg.HubURL != "" && s.cfg.EnrollToken != "" {
		link, err = s.enroll(ctx, s.cfg.HubURL, s.cfg.EnrollToken)
		if err != nil {
			s.failed(ctx, err, 0, 0)
			return err
		}
	}
	if errors.Is(err, store.ErrNotEnrolled) {
		return errIdle
	}
	if err != nil {
		return err
	}
	if link.HubURL == "" {
		return errIdle
	}
	c, err := s.client(link)
	if err != nil {
		s.failed(ctx, err, 0, 0)
		return err
	}
	err = s.push(ctx, c)
	var salvage error
	if se := (*SalvageError)(nil); errors.As(err, &se) {
		salvage, err = se, nil
	}
	switch {
	case refusedData(err):
		s.refusedSince(err)
	case salvage != nil:
		s.refusedSince(salvage)
	case err == nil:
		s.refusedSince(nil)
	}
	if err != nil {
		s.failed(ctx, err, c.sent, c.received)
		if refusedData(err) {
			// The hub answers and knows the box, but refuses its events:
			// tell its operator, or they see only "last seen".
			s.report(ctx, c, err)
		}
		return err
	}
	pullErr := errors.Join(s.pullKeys(ctx, c), s.pull(ctx, c), s.contribute(ctx, c)) // keys first: they decide what the pull takes
	problem := errors.Join(salvage, pullErr)
	s.report(ctx, c, problem)
	if err := s.db.UpstreamSucceeded(ctx, store.UpstreamTraffic{BytesSent: c.sent, BytesReceived: c.received}, time.Now()); err != nil {
		return err
	}
	if problem != nil {
		s.failed(ctx, problem, 0, 0)
		switch {
		case pullErr == nil:
			return salvage
		case salvage == nil:
			return &PullError{Err: pullErr}
		}
		return errors.Join(salvage, &PullError{Err: pullErr})
	}
	s.logged("")
	return nil
}

// refusedState is since when the hub refuses the box's events, and why.
type refusedState struct {
	since time.Time
	err   string
}

// refusedSince records that the hub refuses the box's events for err (the
// first refusal in a row sets the time), or that it took them (nil).
func (s *Syncer) refusedSince(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err == nil {
		s.refused = refusedState{}
		return
	}
	if s.refused.since.IsZero() {
		s.refused.since = time.Now()
	}
	s.refused.err = clip(err.Error())
}

func (s *Syncer) setRunning(on bool) {
	s.mu.Lock()
	s.running = on
	s.mu.Unlock()
}

// failed records a failure for the status page and logs it, repeating the
// same message at most every ten minutes.
func (s *Syncer) failed(ctx context.Context, err error, sent, received int64) {
	if ctx.Err() != nil {
		return
	}
	if rerr := s.db.UpstreamFailed(ctx, err.Error(), store.UpstreamTraffic{BytesSent: sent, BytesReceived: received}, time.Now()); rerr != nil {
		s.log.Error("record sync failure", "err", rerr)
	}
	msg := err.Error()
	s.mu.Lock()
	repeat := msg == s.lastLogged && time.Since(s.lastLoggedAt) < 10*time.Minute
	if !repeat {
		s.lastLogged, s.lastLoggedAt = msg, time.Now()
	}
	s.mu.Unlock()
	if !repeat {
		s.log.Warn("sync with the hub failed; will retry", "err", err)
	}
}

func (s *Syncer) logged(msg string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lastLogged != "" && msg == "" {
		s.log.Info("sync with the hub works again")
	}
	s.lastLogged = msg
}
