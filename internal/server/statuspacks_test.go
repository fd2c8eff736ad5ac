package server_test

import (
	"bytes"
	"context"
	"html"
	"testing"

	"github.com/mitstem/stembox/internal/auth"
	"github.com/mitstem/stembox/internal/content"
	"github.com/mitstem/stembox/internal/content/contenttest"
	"github.com/mitstem/stembox/internal/school"
)

// A refused update shows on the status page, with why, beside the version
// still served.
func TestStatusPageShowsARefusedUpdate(t *testing.T) {
	box := mustRunOpsServer(t)
	if _, err := box.db.CreateUser(context.Background(), "", school.RoleAdmin, "admin", "Admin", auth.Hash(password)); err != nil {
		t.Fatal(err)
	}
	archive, key := miniPack(t)
	kind := contenttest.BrokenKinds()[0]
	broken := contenttest.Break(t, archive, key, "2.0.0", kind)
	if _, err := box.lib.Install(bytes.NewReader(broken), int64(len(broken)), content.InstallOptions{}); err == nil {
		t.Fatal("a broken pack installed")
	}
	d := box.device(t, "en")
	d.signIn("admin", password)
	r := d.get("/admin/status")
	wantStatus(t, r, 200)
	r.body = html.UnescapeString(r.body)
	wantContains(t, r, "mini 1.0.0", "1.0.0 is still served; update to 2.0.0 refused", kind.Want)
}
