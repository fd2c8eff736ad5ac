package server_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/mitstem/stembox/internal/auth"
	"github.com/mitstem/stembox/internal/logtest"
	"github.com/mitstem/stembox/internal/school"
	"github.com/mitstem/stembox/internal/server"
	"github.com/mitstem/stembox/internal/store"
	"github.com/mitstem/stembox/internal/upstream"
)

// fakeSync stands in for the box's upstream syncer.
type fakeSync struct {
	mu       sync.Mutex
	status   upstream.Status
	pokes    int
	enrolled []string
}

func (f *fakeSync) Status(context.Context) (upstream.Status, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.status, nil
}

func (f *fakeSync) Enroll(_ context.Context, hub, token string) (store.UpstreamLink, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if token != "good" {
		return store.UpstreamLink{}, errors.New("the hub refused (403): unknown enrollment token")
	}
	f.enrolled = append(f.enrolled, hub)
	f.status.Enrolled, f.status.HubURL, f.status.SchoolName = true, hub, "School 1"
	return store.UpstreamLink{HubURL: hub}, nil
}

func (f *fakeSync) Poke() {
	f.mu.Lock()
	f.pokes++
	f.mu.Unlock()
}

func TestSyncPage(t *testing.T) {
	db, lib, _ := openParts(t, true)
	logs := &logtest.Buffer{}
	fake := &fakeSync{status: upstream.Status{BoxID: "01BOX", Backlog: 1234, AckedSeq: 99, BytesSent: 2048, LastError: "the hub refused (429): too many batches",
		Download: &upstream.Progress{Pack: "physics", Version: "1.1.0", Done: 1 << 20, Total: 4 << 20}}}
	srv := newServer(t, server.Config{}, slog.New(slog.NewTextHandler(logs, nil)), db, lib, server.WithSync(fake))
	ts := httptest.NewServer(srv)
	defer ts.Close()
	box := &testBox{Server: ts, db: db, lib: lib, logs: logs}
	ctx := context.Background()
	db.CreateUser(ctx, "", school.RoleAdmin, "admin", "Admin", auth.Hash(password))
	db.CreateUser(ctx, "", school.RoleTeacher, "aziza", "Aziza", auth.Hash(password))

	anon := box.device(t, "en")
	if r := anon.get("/admin/sync"); r.StatusCode != 303 || !strings.HasPrefix(r.Header.Get("Location"), "/login") {
		t.Errorf("sync page without signing in: %d %q, want a redirect to sign in", r.StatusCode, r.Header.Get("Location"))
	}
	if r := anon.get("/healthz"); r.StatusCode != 200 {
		t.Errorf("the rest of the box behind the sync page: /healthz %d", r.StatusCode)
	}
	teacher := box.device(t, "en")
	teacher.signIn("aziza", password)
	if r := teacher.get("/admin/sync"); r.StatusCode != 403 {
		t.Errorf("sync page as a teacher: %d, want 403", r.StatusCode)
	}
	admin := box.device(t, "en")
	admin.signIn("admin", password)
	r := admin.get("/admin/sync")
	for _, want := range []string{"1234", "too many batches", "physics 1.1.0", "4.0 MB", "2 kB", "not enrolled"} {
		if r.StatusCode != 200 || !strings.Contains(r.body, want) {
			t.Errorf("sync page: status %d, want %q in\n%.3000s", r.StatusCode, want, r.body)
		}
	}
	csrf := admin.csrf("/admin/sync")
	if r := admin.postForm("/admin/sync", url.Values{}); r.StatusCode != 403 {
		t.Errorf("sync now without the CSRF token: %d, want 403", r.StatusCode)
	}
	if r := admin.postForm("/admin/sync", url.Values{"csrf": {csrf}}); r.StatusCode != 303 || fake.pokes != 1 {
		t.Errorf("sync now: %d, %d pokes; want a redirect and one poke", r.StatusCode, fake.pokes)
	}
	if r := admin.postForm("/admin/sync/enroll", url.Values{"csrf": {csrf}, "hub": {"http://hub"}, "token": {"bad"}}); r.StatusCode != 400 || !strings.Contains(r.body, "unknown enrollment token") {
		t.Errorf("enroll with a bad token: %d, want 400 with the hub's reason\n%.2000s", r.StatusCode, r.body)
	}
	if r := admin.postForm("/admin/sync/enroll", url.Values{"csrf": {csrf}, "hub": {"http://hub"}, "token": {"good"}}); r.StatusCode != 303 || len(fake.enrolled) != 1 {
		t.Errorf("enroll: %d, enrolled %v", r.StatusCode, fake.enrolled)
	}
	if r := admin.get("/admin/sync"); !strings.Contains(r.body, "Enrolled with http://hub for School 1") {
		t.Errorf("sync page after enrolling:\n%.3000s", r.body)
	}
	for _, lang := range []string{"tg", "ru"} {
		d := box.device(t, lang)
		d.signIn("admin", password)
		if r := d.get("/admin/sync"); r.StatusCode != 200 || strings.Contains(r.body, "!sync.") {
			t.Errorf("sync page in %s: %d, or a missing message", lang, r.StatusCode)
		}
	}
}
