package box

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/mitstem/stembox/internal/event"
	"github.com/mitstem/stembox/internal/store"
)

func snaps(sizes ...int64) []Snapshot {
	var out []Snapshot
	for i, s := range sizes {
		out = append(out, Snapshot{Path: fmt.Sprintf("s%d", i), LastSeq: int64(i + 1), Bytes: s})
	}
	return out
}

func names(ss []Snapshot) []string {
	var out []string
	for _, s := range ss {
		out = append(out, s.Path)
	}
	return out
}

func TestRotation(t *testing.T) {
	for _, tc := range []struct {
		name     string
		snaps    []Snapshot
		keep     int
		maxBytes int64
		want     string
	}{
		{"none", nil, 7, 100, "[]"},
		{"under both limits", snaps(10, 10, 10), 7, 100, "[]"},
		{"too many", snaps(1, 1, 1, 1, 1), 3, 100, "[s0 s1]"},
		{"too big", snaps(40, 40, 40, 40), 7, 100, "[s0 s1]"},
		{"exactly the cap", snaps(50, 50, 50), 7, 100, "[s0]"},
		{"newest alone over the cap", snaps(10, 10, 500), 7, 100, "[s0 s1]"},
		{"keep one", snaps(1, 1), 1, 100, "[s0]"},
	} {
		got := fmt.Sprint(names(rotation(tc.snaps, tc.keep, tc.maxBytes)))
		if tc.want == "[]" && got == "[]" {
			continue
		}
		if got != tc.want {
			t.Errorf("%s: rotation deletes %s, want %s", tc.name, got, tc.want)
		}
	}
}

func TestSnapshotDue(t *testing.T) {
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	newest := func(seq int64, at time.Time) []Snapshot { return []Snapshot{{LastSeq: seq, ModTime: at}} }
	for _, tc := range []struct {
		name  string
		snaps []Snapshot
		last  int64
		taken time.Time
		want  bool
	}{
		{"no snapshot yet", nil, 0, time.Time{}, true},
		{"a day old with new events", newest(5, now.Add(-25*time.Hour)), 9, time.Time{}, true},
		{"a day old, nothing new", newest(9, now.Add(-25*time.Hour)), 9, time.Time{}, false},
		{"an hour old", newest(5, now.Add(-time.Hour)), 9, time.Time{}, false},
		{"from the future, first in this run", newest(5, now.Add(300*day)), 9, time.Time{}, true},
		{"from the future, taken this run", newest(5, now.Add(300*day)), 9, time.Now(), false},
	} {
		if got := snapshotDue(tc.snaps, tc.last, day, now, tc.taken); got != tc.want {
			t.Errorf("%s: due = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// The box takes a snapshot on its own once the delay has passed; the
// snapshot verifies, opens as a database and holds the answers; a restore
// from it brings them back after they were lost.
func TestSnapshotAndRestore(t *testing.T) {
	ctx := context.Background()
	data := t.TempDir()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	b, err := Open(ctx, Config{Addr: "127.0.0.1:0", DataDir: data, Snapshots: SnapshotConfig{Delay: 10 * time.Millisecond, Keep: 2}}, logger)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for i := range 20 {
		ev, err := b.DB().RecordAnswer(ctx, event.Answer{Learner: "guest:a", Pack: "p", Set: "s", Item: fmt.Sprint("q", i%3)})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, ev.ID)
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- b.Run(runCtx) }()
	var list []Snapshot
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if list, _ = Snapshots(SnapshotDir(data)); len(list) > 0 {
			break
		}
	}
	if len(list) != 1 || list[0].LastSeq != 20 {
		t.Fatalf("snapshots after start: %+v, want one holding seq 20", list)
	}
	// Two more by hand: rotation keeps two.
	for range 2 {
		if _, err := b.DB().RecordAnswer(ctx, event.Answer{Learner: "guest:b", Pack: "p", Set: "s", Item: "q"}); err != nil {
			t.Fatal(err)
		}
		if _, err := b.TakeSnapshot(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if list, _ = Snapshots(SnapshotDir(data)); len(list) != 2 || list[1].LastSeq != 22 {
		t.Fatalf("after rotation: %+v, want the two newest", list)
	}
	if v, ok := b.Metrics().Value("stembox_snapshots"); !ok || v != 2 {
		t.Errorf("stembox_snapshots = %v, want 2", v)
	}

	// While the box runs, a restore is refused.
	if _, err := store.Restore(ctx, dbPath(data), list[0].Path); err == nil {
		t.Fatal("restore while the box runs succeeded")
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	b.Close()

	info, err := store.VerifyBackup(ctx, list[0].Path)
	if err != nil || info.LastSeq != 21 || info.Events != 21 {
		t.Fatalf("verify snapshot: %+v, %v; want 21 events", info, err)
	}
	// Lose the database; restore the snapshot; the answers are back.
	os.Remove(dbPath(data))
	os.Remove(dbPath(data) + "-wal")
	os.Remove(dbPath(data) + "-shm")
	if _, err := store.Restore(ctx, dbPath(data), list[0].Path); err != nil {
		t.Fatal(err)
	}
	b, err = Open(ctx, Config{Addr: "127.0.0.1:0", DataDir: data}, logger)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	for _, id := range ids {
		if _, _, err := b.DB().AnswerOf(ctx, "guest:a", id); err != nil {
			t.Fatalf("answer %s missing after the restore: %v", id, err)
		}
	}
	if last, _ := b.DB().LastSeq(ctx); last != 21 {
		t.Errorf("last seq after restore = %d, want 21", last)
	}
}

func TestSecondBoxOnSameDataIsRefused(t *testing.T) {
	data := t.TempDir()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	b, err := Open(context.Background(), Config{Addr: "127.0.0.1:0", DataDir: data}, logger)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	_, err = Open(context.Background(), Config{Addr: "127.0.0.1:0", DataDir: data}, logger)
	if err == nil {
		t.Fatal("a second box on the same data directory opened")
	}
	if _, err := os.Stat(filepath.Join(data, "stembox.db.lock")); err != nil {
		t.Errorf("no lock file: %v", err)
	}
}
