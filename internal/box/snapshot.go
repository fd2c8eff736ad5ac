package box

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"time"

	"github.com/mitstem/stembox/internal/ops"
	"github.com/mitstem/stembox/internal/store"
)

// Automatic snapshots. Once a day the box copies its database into
// DataDir/backups (store.Backup: online and consistent), keeps the newest
// few and deletes older ones beyond a total size. They guard against a
// damaged database and against mistakes, not against the SD card dying: an
// operator copies one to a USB stick now and then (stembox admin backup).

// Snapshot defaults.
const (
	DefaultSnapshotEvery    = 24 * time.Hour
	DefaultSnapshotKeep     = 7
	DefaultSnapshotMaxBytes = 1 << 30
	defaultSnapshotDelay    = 2 * time.Minute // after start: let the box come up first
	snapshotCheckEvery      = time.Hour
	// snapshotHeadroom is the free space a snapshot must leave: a backup
	// must never be what fills the disk answers are written to.
	snapshotHeadroom = 64 << 20
)

// SnapshotConfig says how often to snapshot the database and how many
// snapshots to keep.
type SnapshotConfig struct {
	Every    time.Duration // 0: a day; negative: never
	Keep     int           // how many to keep; 0: 7
	MaxBytes int64         // total size of the kept snapshots; 0: 1 GiB. The newest is kept even if larger.
	Delay    time.Duration // before the first check after start; 0: 2 minutes
}

func (c SnapshotConfig) withDefaults() SnapshotConfig {
	if c.Every == 0 {
		c.Every = DefaultSnapshotEvery
	}
	if c.Keep <= 0 {
		c.Keep = DefaultSnapshotKeep
	}
	if c.MaxBytes <= 0 {
		c.MaxBytes = DefaultSnapshotMaxBytes
	}
	if c.Delay <= 0 {
		c.Delay = defaultSnapshotDelay
	}
	return c
}

// SnapshotDir is where a box keeps its automatic snapshots.
func SnapshotDir(data string) string { return filepath.Join(data, "backups") }

// A snapshot is named for when it was taken (by the box's clock, which may
// be wrong) and the last event it holds (which never goes back): the
// sequence number orders snapshots even when the clock does not.
var snapshotName = regexp.MustCompile(`^stembox-(\d{8}T\d{6}Z)-seq(\d+)\.db$`)

// Snapshot is a snapshot file.
type Snapshot struct {
	Path    string
	LastSeq int64
	Bytes   int64
	ModTime time.Time
}

// Snapshots lists the snapshots in dir, oldest first.
func Snapshots(dir string) ([]Snapshot, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("box: snapshots: %w", err)
	}
	var out []Snapshot
	for _, e := range entries {
		m := snapshotName.FindStringSubmatch(e.Name())
		if m == nil || !e.Type().IsRegular() {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue
		}
		seq, _ := strconv.ParseInt(m[2], 10, 64)
		out = append(out, Snapshot{Path: filepath.Join(dir, e.Name()), LastSeq: seq, Bytes: info.Size(), ModTime: info.ModTime()})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].LastSeq != out[j].LastSeq {
			return out[i].LastSeq < out[j].LastSeq
		}
		return out[i].Path < out[j].Path
	})
	return out, nil
}

// TakeSnapshot copies the database into the snapshot directory now and
// applies the rotation.
func (b *Box) TakeSnapshot(ctx context.Context) (store.BackupInfo, error) {
	dir := SnapshotDir(b.cfg.DataDir)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return store.BackupInfo{}, fmt.Errorf("box: snapshot: %w", err)
	}
	var dbBytes int64
	for _, suffix := range []string{"", "-wal"} {
		if st, err := os.Stat(b.db.Path() + suffix); err == nil {
			dbBytes += st.Size()
		}
	}
	if d, err := ops.DiskUsage(dir); err == nil && int64(d.Avail) < dbBytes+snapshotHeadroom {
		return store.BackupInfo{}, fmt.Errorf("box: snapshot: only %d MB free, too little for a copy of the %d MB database", d.Avail>>20, dbBytes>>20)
	}
	last, err := b.db.LastSeq(ctx)
	if err != nil {
		return store.BackupInfo{}, err
	}
	name := fmt.Sprintf("stembox-%s-seq%d.db", time.Now().UTC().Format("20060102T150405Z"), last)
	info, err := store.Backup(ctx, b.db.Path(), filepath.Join(dir, name))
	if err != nil {
		return store.BackupInfo{}, err
	}
	b.rotateSnapshots()
	return info, nil
}

// rotateSnapshots deletes the oldest snapshots beyond the number to keep,
// then beyond the total size, always keeping the newest.
func (b *Box) rotateSnapshots() {
	cfg := b.cfg.Snapshots.withDefaults()
	snaps, err := Snapshots(SnapshotDir(b.cfg.DataDir))
	if err != nil {
		b.log.Warn("snapshot rotation", "err", err)
		return
	}
	for _, s := range rotation(snaps, cfg.Keep, cfg.MaxBytes) {
		if err := os.Remove(s.Path); err != nil {
			b.log.Warn("remove old snapshot", "file", s.Path, "err", err)
		}
	}
}

// rotation returns the snapshots (oldest first) to delete so that at most
// keep remain and together they take at most maxBytes, the newest always
// remaining.
func rotation(snaps []Snapshot, keep int, maxBytes int64) []Snapshot {
	if len(snaps) == 0 {
		return nil
	}
	var total int64
	kept := 0
	cut := len(snaps) // snaps[cut:] are kept
	for i := len(snaps) - 1; i >= 0; i-- {
		if kept > 0 && (kept >= keep || total+snaps[i].Bytes > maxBytes) {
			break
		}
		total += snaps[i].Bytes
		kept++
		cut = i
	}
	return snaps[:cut]
}

// snapshotDue says whether a snapshot should be taken now: there is none
// yet, or events were added since the newest and it is older than every.
// When the clock says the newest was taken in the future (a box without a
// real-time clock booted in the past), its age is unknown: one is taken once
// per run, then every `every` of running time.
func snapshotDue(snaps []Snapshot, lastSeq int64, every time.Duration, now time.Time, takenThisRun time.Time) bool {
	if len(snaps) == 0 {
		return true
	}
	newest := snaps[len(snaps)-1]
	if lastSeq == newest.LastSeq {
		return false // nothing new to keep
	}
	age := now.Sub(newest.ModTime)
	if age >= every {
		return true
	}
	if age < -time.Minute {
		return takenThisRun.IsZero() || time.Since(takenThisRun) >= every
	}
	return false
}

// snapshotLoop takes snapshots when due, checking every hour.
func (b *Box) snapshotLoop(ctx context.Context) error {
	cfg := b.cfg.Snapshots.withDefaults()
	if cfg.Every < 0 {
		return nil
	}
	check := min(snapshotCheckEvery, cfg.Every)
	t := time.NewTimer(cfg.Delay)
	defer t.Stop()
	var takenThisRun time.Time
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		t.Reset(check)
		snaps, err := Snapshots(SnapshotDir(b.cfg.DataDir))
		if err != nil {
			b.log.Warn("snapshots", "err", err)
			continue
		}
		last, err := b.db.LastSeq(ctx)
		if err != nil {
			continue // shutting down, or the database is in trouble and says so elsewhere
		}
		if !snapshotDue(snaps, last, cfg.Every, time.Now(), takenThisRun) {
			continue
		}
		start := time.Now()
		info, err := b.TakeSnapshot(ctx)
		if err != nil {
			if ctx.Err() == nil {
				b.snapshotFailures.Inc()
				b.log.Error("automatic snapshot failed", "err", err)
			}
			continue
		}
		takenThisRun = time.Now()
		b.log.Info("automatic snapshot taken", "file", info.Path, "bytes", info.Bytes, "events", info.Events, "took", time.Since(start).Round(time.Millisecond))
	}
}
