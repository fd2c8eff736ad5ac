package box

import (
	"context"
	"path/filepath"

	"github.com/mitstem/stembox/internal/upstream"
)

// openUpstream sets up sync with the hub: the syncer's loop runs with the
// box's other background work (it idles until the box is enrolled, with
// --hub and --enroll-token, on the sync page, or with stembox sync
// enroll); Open gives it to the web server for the admin's sync page
// (/admin/sync).
func (b *Box) openUpstream() error {
	cfg := b.cfg.Upstream
	cfg.Keys = b.lib.Keys() // one keyring: a key list the syncer takes applies to the library at once
	if cfg.CacheDir == "" {
		cfg.CacheDir = UpstreamCacheDir(b.cfg.DataDir)
	}
	if cfg.Version == "" {
		cfg.Version = b.cfg.Version
	}
	if cfg.Time == nil {
		cfg.Time = b.time
	}
	if cfg.BoxName == "" {
		cfg.BoxName = b.cfg.MDNSName
	}
	if cfg.Contributions.OwnKey.ID == "" {
		c, err := Contributions(b.cfg.DataDir)
		if err != nil {
			return err
		}
		cfg.Contributions = c
	}
	b.upstream = upstream.New(b.db, b.lib, cfg, b.log)
	b.tasks = append(b.tasks, b.upstream.Run)
	b.registerUpstreamMetrics()
	return nil
}

// UpstreamCacheDir holds pack files being downloaded from the hub, so an
// interrupted download resumes after a restart.
func UpstreamCacheDir(data string) string { return filepath.Join(data, "upstream-cache") }

// StudioPacksDir is where every version of the box's teachers' packs is
// kept (the teacher studio writes them).
func StudioPacksDir(data string) string { return filepath.Join(StudioDir(data), "packs") }

// Contributions says which of a data directory's packs go to the hub as
// its teachers' contributions (the packs of its own key's namespace), and
// where the hub's acknowledgements of them are kept.
func Contributions(data string) (upstream.Contributions, error) {
	k, err := OwnKey(data)
	if err != nil {
		return upstream.Contributions{}, err
	}
	return upstream.Contributions{OwnKey: k, Dir: StudioPacksDir(data), Sent: filepath.Join(data, "studio", "contributed.json")}, nil
}

// Upstream returns the box's link to the hub.
func (b *Box) Upstream() *upstream.Syncer { return b.upstream }

// registerUpstreamMetrics exports the backlog and the bytes sent.
func (b *Box) registerUpstreamMetrics() {
	status := func(f func(upstream.Status) float64) func() float64 {
		return func() float64 {
			st, err := upstream.ReadStatus(context.Background(), b.db)
			if err != nil {
				return 0
			}
			return f(st)
		}
	}
	b.metrics.GaugeFunc("stembox_upstream_backlog_events", "Events the hub has not acknowledged yet.", status(func(s upstream.Status) float64 { return float64(s.Backlog) }))
	b.metrics.GaugeFunc("stembox_upstream_sent_bytes", "Bytes sent to the hub, all time.", status(func(s upstream.Status) float64 { return float64(s.BytesSent) }))
	b.metrics.GaugeFunc("stembox_upstream_last_success_seconds", "When a sync with the hub last succeeded, in unix seconds (0: never).", status(func(s upstream.Status) float64 {
		if s.LastSuccess.IsZero() {
			return 0
		}
		return float64(s.LastSuccess.Unix())
	}))
}
