package server_test

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/mitstem/stembox/internal/auth"
	"github.com/mitstem/stembox/internal/school"
)

// TestServerWithoutItsParts: a server made without live sessions, sync or
// the LAN (server.New with no options) answers as a box without them
// always did: the pages that need live sessions or sync say 503, the
// results of past sessions are still looked up, and the LAN pages show
// what they can (the page's own address, no peers, no packs shared).
func TestServerWithoutItsParts(t *testing.T) {
	box := mustRunServer(t)
	ctx := context.Background()
	box.db.CreateUser(ctx, "", school.RoleAdmin, "admin", "Admin", auth.Hash(password))
	box.db.CreateUser(ctx, "", school.RoleTeacher, "aziza", "Aziza", auth.Hash(password))
	anon := box.device(t, "en")
	teacher := box.device(t, "en")
	teacher.signIn("aziza", password)
	admin := box.device(t, "en")
	admin.signIn("admin", password)

	// Live sessions: off.
	for _, p := range []string{"/live", "/live/ABCD", "/live/ABCD/play", "/live/ABCD/screen", "/live/ABCD/control", "/live/ABCD/qr.svg", "/live/ABCD/ws?role=screen"} {
		wantStatus(t, anon.get(p), 503)
	}
	wantStatus(t, anon.postForm("/live/join", url.Values{"code": {"ABCD"}, "nickname": {"Ali"}}), 503)
	if r := anon.get("/live/new"); r.StatusCode != 303 {
		t.Errorf("GET /live/new signed out: %d, want a redirect to sign in", r.StatusCode)
	}
	wantStatus(t, teacher.get("/live/new"), 503)
	wantStatus(t, teacher.postForm("/live/new", url.Values{"csrf": {teacher.csrf("/teach")}, "source": {"set"}, "set": {"mini/speed"}}), 503)
	// A session's results come from the database, live sessions or not.
	wantStatus(t, teacher.get("/live/ABCD/results"), 404)

	// Sync: off.
	if r := anon.get("/admin/sync"); r.StatusCode != 303 {
		t.Errorf("GET /admin/sync signed out: %d, want a redirect to sign in", r.StatusCode)
	}
	wantStatus(t, teacher.get("/admin/sync"), 403)
	wantStatus(t, admin.get("/admin/sync"), 503)
	csrf := admin.csrf("/teach")
	wantStatus(t, admin.postForm("/admin/sync", url.Values{"csrf": {csrf}}), 503)
	wantStatus(t, admin.postForm("/admin/sync/enroll", url.Values{"csrf": {csrf}, "hub": {"http://192.0.2.1"}, "token": {"x"}}), 503)

	// The LAN: nothing found, nothing shared.
	r := anon.get("/api/v1/peers")
	wantStatus(t, r, 200)
	wantContains(t, r, `"peers":[]`, `"best":"`+box.URL+`/"`)
	r = anon.get("/connect")
	wantStatus(t, r, 200)
	wantContains(t, r, box.URL+"/")
	r = anon.get("/api/v1/packs/mini/archive")
	wantStatus(t, r, 404)
	wantContains(t, r, "this box does not share packs")
	r = admin.get("/admin/peers?url=http://192.0.2.1:8080/")
	wantStatus(t, r, 200)
	wantContains(t, r, "192.0.2.1:8080")
	wantLacks(t, r, "unreachable")
	wantStatus(t, admin.postForm("/admin/peers/fetch", url.Values{"csrf": {csrf}, "peer": {"http://192.0.2.1:8080/"}, "pack": {"mini"}}), 503)

	// Each 503 says why, in the log (the page says "not now").
	for _, why := range []string{"live sessions are not running on this box", "upstream sync is not running on this box", "pack sharing is off"} {
		if !strings.Contains(box.logs.String(), why) {
			t.Errorf("the log lacks %q", why)
		}
	}
}
