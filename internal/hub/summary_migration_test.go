package hub_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/mitstem/stembox/internal/hub"
	"github.com/mitstem/stembox/internal/hub/hubtest"
	"github.com/mitstem/stembox/internal/upstream/upstreamtest"
	"github.com/mitstem/stembox/internal/upstream/wire"
)

// The migration that adds the summaries builds them from the answers and
// lessons a hub already holds: what it builds equals what ingest keeps.
func TestMigrationBuildsTheSummaries(t *testing.T) {
	for _, b := range hubtest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx := t.Context()
			target, dir := b.Target(t), t.TempDir()
			st := mustOpenStore(t, target, dir)
			for i, box := range []string{"MIGBOX1", "MIGBOX2"} {
				id, _ := enrolled(t, st, "School "+box, "Sughd", box)
				g := upstreamtest.NewGen(uint64(10+i), 2, 10)
				for range 3 {
					if _, err := st.Ingest(ctx, id, wire.Batch{BoxID: box, Clock: wire.Clock{WallMS: time.Now().UnixMilli(), BootID: "b", MonoMS: 1}, Events: g.Events(700)}, true, 1); err != nil {
						t.Fatal(err)
					}
				}
			}
			driver, dsn, dialect := "sqlite3", "file:"+filepath.Join(dir, "hub.db")+"?_busy_timeout=10000", "sqlite"
			if hub.IsPostgres(target) {
				driver, dsn, dialect = "pgx", target, "postgres"
			}
			db, err := sql.Open(driver, dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			kept := summaries(t, ctx, db)
			if len(kept["learner_items"]) == 0 || len(kept["learner_packs"]) == 0 {
				t.Fatalf("ingest kept no summary: %v", kept)
			}
			for _, table := range []string{"learner_items", "learner_packs"} {
				if _, err := db.ExecContext(ctx, "DELETE FROM "+table); err != nil {
					t.Fatal(err)
				}
			}
			var ran int
			for _, s := range migrationStatements(t, dialect, "0006_report_summaries.sql") {
				if strings.HasPrefix(s, "INSERT INTO learner_") || strings.HasPrefix(s, "UPDATE learner_packs") {
					if _, err := db.ExecContext(ctx, s); err != nil {
						t.Fatalf("%s: %v", s, err)
					}
					ran++
				}
			}
			if ran != 4 {
				t.Fatalf("found %d statements that build the summaries in the migration, want 4", ran)
			}
			if built := summaries(t, ctx, db); !reflect.DeepEqual(built, kept) {
				t.Errorf("the migration built other summaries than ingest keeps:\nbuilt %d items, %d packs\nkept  %d items, %d packs",
					len(built["learner_items"]), len(built["learner_packs"]), len(kept["learner_items"]), len(kept["learner_packs"]))
			}
		})
	}
}

// migrationStatements returns the statements of a hub migration of
// dialect, without their comments.
func migrationStatements(t *testing.T, dialect, name string) []string {
	t.Helper()
	sqlText, err := os.ReadFile(filepath.Join("migrations", dialect, name))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, stmt := range strings.Split(string(sqlText), ";\n") {
		var code []string
		for _, line := range strings.Split(stmt, "\n") {
			if !strings.HasPrefix(strings.TrimSpace(line), "--") {
				code = append(code, line)
			}
		}
		if s := strings.TrimSpace(strings.Join(code, "\n")); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func summaries(t *testing.T, ctx context.Context, db *sql.DB) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for table, q := range map[string]string{
		"learner_items": "SELECT box_id, learner, pack, set_id, item, answers, last_seq, last_correct FROM learner_items ORDER BY 1, 2, 3, 4, 5",
		"learner_packs": "SELECT box_id, learner, pack, answers, items, mastered, lessons, class_id, gender FROM learner_packs ORDER BY 1, 2, 3",
	} {
		rows, err := db.QueryContext(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			v := make([]any, len(cols))
			for i := range v {
				v[i] = new(any)
			}
			if err := rows.Scan(v...); err != nil {
				t.Fatal(err)
			}
			var parts []string
			for _, x := range v {
				parts = append(parts, fmt.Sprint(*(x.(*any))))
			}
			out[table] = append(out[table], strings.Join(parts, "|"))
		}
		rows.Close()
	}
	return out
}
