package migrate_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	_ "github.com/mattn/go-sqlite3"

	"github.com/mitstem/stembox/internal/migrate"
)

func openDB(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+filepath.Join(t.TempDir(), "m.db")+"?_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	return db
}

func plan() migrate.Plan {
	return migrate.Plan{
		Owner:  "test",
		Where:  "m.db",
		Table:  "schema_migrations",
		Create: "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_ms INTEGER NOT NULL)",
		Record: "INSERT INTO schema_migrations (version, name, applied_ms) VALUES (?, ?, ?)",
		Advice: "run a newer one",
		Now:    func() time.Time { return time.UnixMilli(1234) },
	}
}

func steps(t *testing.T, files map[string]string) []migrate.Step {
	t.Helper()
	fsys := fstest.MapFS{}
	for name, sql := range files {
		fsys["m/"+name] = &fstest.MapFile{Data: []byte(sql)}
	}
	s, err := migrate.Load(fsys, "m")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestLoadRefusesBadNames(t *testing.T) {
	for _, name := range []string{"init.sql", "0001_init.txt", "x_init.sql"} {
		_, err := migrate.Load(fstest.MapFS{"m/" + name: {}}, "m")
		if err == nil || !strings.Contains(err.Error(), "NNNN_name.sql") {
			t.Errorf("Load(%s) = %v, want an error naming NNNN_name.sql", name, err)
		}
	}
	_, err := migrate.Load(fstest.MapFS{"m/0001_a.sql": {}, "m/0003_c.sql": {}}, "m")
	if err == nil || !strings.Contains(err.Error(), "0003_c.sql") {
		t.Errorf("Load with a gap = %v, want an error naming 0003_c.sql", err)
	}
}

func TestUpAppliesInOrderOnce(t *testing.T) {
	db := openDB(t)
	ctx := context.Background()
	all := steps(t, map[string]string{
		"0002_b.sql": "INSERT INTO t VALUES ('b')",
		"0001_a.sql": "CREATE TABLE t (v TEXT)",
	})
	if err := plan().Up(ctx, db, all[:1]); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := plan().Up(ctx, db, all); err != nil {
			t.Fatal(err)
		}
	}
	var n, applied int
	db.QueryRow("SELECT count(*) FROM t").Scan(&n)
	db.QueryRow("SELECT sum(applied_ms) FROM schema_migrations").Scan(&applied)
	if got, want := n, 1; got != want {
		t.Errorf("rows in t = %d, want %d (each step once)", got, want)
	}
	if got, want := applied, 2*1234; got != want {
		t.Errorf("sum of applied_ms = %d, want %d", got, want)
	}
}

func TestUpRollsBackAFailedStep(t *testing.T) {
	db := openDB(t)
	ctx := context.Background()
	all := steps(t, map[string]string{
		"0001_a.sql": "CREATE TABLE t (v TEXT)",
		"0002_b.sql": "CREATE TABLE u (v TEXT); INSERT INTO nowhere VALUES (1)",
	})
	err := plan().Up(ctx, db, all)
	if err == nil || !strings.Contains(err.Error(), "test: migrate 0002_b.sql") {
		t.Fatalf("Up = %v, want an error naming 0002_b.sql", err)
	}
	var version, tables int
	db.QueryRow("SELECT max(version) FROM schema_migrations").Scan(&version)
	db.QueryRow("SELECT count(*) FROM sqlite_master WHERE name = 'u'").Scan(&tables)
	if version != 1 || tables != 0 {
		t.Errorf("after a failed step: version %d, table u present %d; want 1 and 0", version, tables)
	}
}

func TestUpRefusesANewerSchema(t *testing.T) {
	db := openDB(t)
	ctx := context.Background()
	all := steps(t, map[string]string{"0001_a.sql": "CREATE TABLE t (v TEXT)"})
	if err := plan().Up(ctx, db, all); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("INSERT INTO schema_migrations VALUES (2, '0002_future.sql', 0)"); err != nil {
		t.Fatal(err)
	}
	err := plan().Up(ctx, db, all)
	if err == nil || !strings.Contains(err.Error(), "m.db has schema version 2, newer than this stembox knows (1): run a newer one") {
		t.Errorf("Up = %v, want a refusal of schema version 2", err)
	}
}
