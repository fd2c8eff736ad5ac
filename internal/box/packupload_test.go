package box_test

import (
	"bytes"
	"context"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/mitstem/stembox/internal/auth"
	"github.com/mitstem/stembox/internal/box"
	"github.com/mitstem/stembox/internal/content"
	"github.com/mitstem/stembox/internal/content/contenttest"
	"github.com/mitstem/stembox/internal/school"
)

// TestAdminUploadsAPackToARunningBox installs, from an admin's browser
// session over the box's own listener, a new version of a pack signed by a
// key the box trusts (its own), and one signed by a key it does not: the
// first is served at once, the second changes nothing.
func TestAdminUploadsAPackToARunningBox(t *testing.T) {
	data, packs := t.TempDir(), t.TempDir()
	src := filepath.Join(packs, "mini")
	contenttest.CopyTree(t, contenttest.MiniDir(), src)
	b, _ := mustRunBox(t, data, packs)
	base := "http://" + b.Addr().String()
	const pw = "upload-admin-pw"
	if _, err := b.DB().CreateUser(context.Background(), "", school.RoleAdmin, "root", "", auth.Hash(pw)); err != nil {
		t.Fatal(err)
	}
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	if _, err := c.PostForm(base+"/login", url.Values{"username": {"root"}, "password": {pw}}); err != nil {
		t.Fatal(err)
	}
	page := func(resp *http.Response, err error) (int, string) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	_, body := page(c.Get(base + "/admin/packs"))
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no CSRF token on /admin/packs:\n%.2000s", body)
	}
	upload := func(archive []byte) (int, string) {
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		mw.WriteField("csrf", m[1])
		fw, _ := mw.CreateFormFile("file", "mini.stempack")
		fw.Write(archive)
		mw.Close()
		req, _ := http.NewRequest("POST", base+"/admin/packs", &buf)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		req.Header.Set("Origin", base)
		req.Header.Set("Accept-Language", "en")
		return page(c.Do(req))
	}

	// Version 2 of the pack, signed with the box's own key.
	yaml, _ := os.ReadFile(filepath.Join(src, "pack.yaml"))
	os.WriteFile(filepath.Join(src, "pack.yaml"), bytes.Replace(yaml, []byte("version: 1.0.0"), []byte("version: 2.0.0"), 1), 0o644)
	own, err := content.LoadSigner(box.DevKeyPath(data))
	if err != nil {
		t.Fatal(err)
	}
	untrusted := contenttest.Build(t, src, contenttest.Signer(t))
	status, body := upload(untrusted)
	if status != 400 || !strings.Contains(body, "signed by a key this box does not trust") {
		t.Errorf("untrusted pack: status %d, want 400 and the reason:\n%.3000s", status, body)
	}
	if _, body := page(c.Get(base + "/api/v1/packs")); !strings.Contains(body, `"1.0.0"`) {
		t.Errorf("after the refusal the box serves:\n%s", body)
	}
	status, body = upload(contenttest.Build(t, src, own))
	if status != 200 || !strings.Contains(body, "version 2.0.0 (it replaces version 1.0.0)") {
		t.Fatalf("good pack: status %d:\n%.3000s", status, body)
	}
	if _, body := page(c.Get(base + "/api/v1/packs")); !strings.Contains(body, `"2.0.0"`) {
		t.Errorf("after the install the box serves:\n%s", body)
	}
	if status, _ := page(c.Get(base + "/packs/mini/lessons/speed")); status != 200 {
		t.Errorf("the new version's lesson: status %d", status)
	}
}
