package server_test

import (
	"context"
	"database/sql"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mitstem/stembox/internal/auth"
	"github.com/mitstem/stembox/internal/hub"
	"github.com/mitstem/stembox/internal/hub/hubtest"
	"github.com/mitstem/stembox/internal/logtest"
	"github.com/mitstem/stembox/internal/school"
	"github.com/mitstem/stembox/internal/server"
	"github.com/mitstem/stembox/internal/upstream"
)

// A box whose events the hub refuses for good (a 409 that does not
// resolve) still serves its students, so /readyz stays 200, but its body,
// and the status page's checks as a warning, say since when and why the
// hub refuses the box's events; once the hub takes them, the warning goes.
func TestReadyzSaysTheHubRefusesTheBox(t *testing.T) {
	ctx := t.Context()
	hubDir := t.TempDir()
	h := hubtest.Start(t, hubDir, hubtest.Backends()[0].Target(t), hub.Config{})
	tok, err := h.Store().CreateSchool(ctx, "School 3", "Sughd", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	db, lib, _ := openParts(t, false)
	logs := &logtest.Buffer{}
	logger := slog.New(slog.NewTextHandler(logs, nil))
	syncer := upstream.New(db, lib, upstream.Config{HubURL: h.URL, EnrollToken: tok.Token, CacheDir: t.TempDir()}, logger)
	ts := httptest.NewServer(newServer(t, server.Config{}, logger, db, lib, server.WithSync(syncer)))
	defer ts.Close()
	box := &testBox{Server: ts, db: db, lib: lib, logs: logs}
	db.CreateUser(ctx, "", school.RoleAdmin, "admin", "Admin", auth.Hash(password))
	if err := syncer.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	anon := box.device(t, "en")
	r := anon.get("/readyz")
	wantStatus(t, r, 200)
	wantContains(t, r, "sync: ok (not refused by the hub)")

	// The hub's record of where the box's stream starts no longer matches
	// the box's: every batch is refused (409), and no epoch resolves it.
	hubDB, err := sql.Open("sqlite3", "file:"+filepath.Join(hubDir, "hub.db")+"?_busy_timeout=10000")
	if err != nil {
		t.Fatal(err)
	}
	defer hubDB.Close()
	tamper := func(parent string) {
		t.Helper()
		if _, err := hubDB.ExecContext(ctx, "UPDATE box_epochs SET parent = ? WHERE epoch = ''", parent); err != nil {
			t.Fatal(err)
		}
	}
	tamper("tampered")
	db.CreateUser(ctx, "", school.RoleTeacher, "aziza", "Aziza", auth.Hash(password))
	for range 2 {
		if err := syncer.Sync(ctx); err == nil || !strings.Contains(err.Error(), "(409)") {
			t.Fatalf("sync with the hub refusing: %v, want its 409", err)
		}
	}
	r = anon.get("/readyz")
	wantStatus(t, r, 200)
	wantContains(t, r, "database: ok", "sync: WARN (refused by the hub since ", "(409)", "not after 0 of")
	admin := box.device(t, "en")
	admin.signIn("admin", password)
	r = admin.get("/admin/status")
	wantStatus(t, r, 200)
	wantContains(t, r, "Sync with the hub", `class="notice">Refused by the hub since `, "not after 0 of")
	if strings.Contains(r.body, "not ready") {
		t.Errorf("status page says the box is not ready while it serves:\n%.3000s", r.body)
	}
	for _, lang := range []string{"ru", "tg"} {
		d := box.device(t, lang)
		d.signIn("admin", password)
		if r := d.get("/admin/status"); r.StatusCode != 200 || strings.Contains(r.body, "!status.") || !strings.Contains(r.body, "not after 0 of") {
			t.Errorf("status page in %s: %d, a missing message or no refusal", lang, r.StatusCode)
		}
	}

	tamper("")
	if err := syncer.Sync(context.Background()); err != nil {
		t.Fatalf("sync once the hub takes the events: %v", err)
	}
	r = anon.get("/readyz")
	wantStatus(t, r, 200)
	wantContains(t, r, "sync: ok (not refused by the hub)")
}
