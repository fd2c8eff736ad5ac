package upstream_test

import (
	"bytes"
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
	"time"

	"github.com/mitstem/stembox/internal/content"
	"github.com/mitstem/stembox/internal/content/contenttest"
	"github.com/mitstem/stembox/internal/hub"
	"github.com/mitstem/stembox/internal/hub/hubtest"
	"github.com/mitstem/stembox/internal/upstream"
	"github.com/mitstem/stembox/internal/upstream/upstreamtest"
	"github.com/mitstem/stembox/internal/upstream/wire"
)

// TestImportPage carries a bundle to the hub's upload page, as an operator
// with a USB stick does, and takes the acknowledgement and the pack back.
func TestImportPage(t *testing.T) {
	archive, key := miniPack(t)
	keys := content.NewKeyring(key.Public())
	ctx := t.Context()
	h := hubtest.Start(t, t.TempDir(), "", hub.Config{})
	publish(t, h, archive, keys)
	extra := contenttest.Signer(t).Public()
	if _, err := h.Store().UpdateKeyList(ctx, key, hub.AddListedKey(extra, "", time.Now())); err != nil { // signed by the box's own key
		t.Fatal(err)
	}
	box := newBox(t, keys)
	tok, _ := h.Store().CreateSchool(ctx, "School", "R", time.Hour)
	resp, err := h.Store().Enroll(ctx, tok.Token, "", "")
	if err != nil {
		t.Fatal(err)
	}
	cred := filepath.Join(t.TempDir(), "c")
	writeJSON(t, cred, resp)
	if _, err := upstream.EnrollFile(ctx, box.db, cred); err != nil {
		t.Fatal(err)
	}
	w, _ := upstreamtest.NewBox(ctx, box.db, 1, 10, 4)
	if err := w.Write(ctx, 200, 2); err != nil {
		t.Fatal(err)
	}
	exp, err := upstream.Export(ctx, box.db, box.lib, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	bundle, _ := os.ReadFile(exp.Path)

	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp2, err := c.PostForm(h.URL+"/login", url.Values{"token": {h.Operator}})
	if err != nil || resp2.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign in: %v %v", resp2, err)
	}
	page := get(t, c, h.URL+"/import")
	csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(page)
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("csrf", csrf[1])
	fw, _ := mw.CreateFormFile("bundle", filepath.Base(exp.Path))
	fw.Write(bundle)
	mw.Close()
	req, _ := http.NewRequest("POST", h.URL+"/import", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Accept-Language", "en")
	r, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	result, _ := io.ReadAll(r.Body)
	r.Body.Close()
	if r.StatusCode != 200 || !strings.Contains(string(result), "new events stored") {
		t.Fatalf("upload: %d\n%s", r.StatusCode, result)
	}
	ackLink := regexp.MustCompile(`href="(/imports/[0-9a-f]+)"`).FindStringSubmatch(string(result))
	packLink := regexp.MustCompile(`href="(/api/v1/packs/mini/[^"]+/archive)"`).FindStringSubmatch(string(result))
	keysLink := regexp.MustCompile(`href="(/api/v1/keys)"`).FindStringSubmatch(string(result))
	if ackLink == nil || packLink == nil || keysLink == nil {
		t.Fatalf("the result page lacks the acknowledgement or the pack:\n%s", result)
	}
	back := t.TempDir()
	os.WriteFile(filepath.Join(back, "x"+wire.AckExt), []byte(get(t, c, h.URL+ackLink[1])), 0o644)
	os.WriteFile(filepath.Join(back, "mini"+content.Extension), []byte(get(t, c, h.URL+packLink[1])), 0o644)
	os.WriteFile(filepath.Join(back, content.KeyListFile), []byte(get(t, c, h.URL+keysLink[1])), 0o644)
	imp, err := upstream.Import(ctx, box.db, box.lib, back)
	if err != nil {
		t.Fatal(err)
	}
	last, _ := box.db.LastSeq(ctx)
	if !imp.Moved || imp.AckedSeq != last || len(imp.Installed) != 1 || imp.KeyList == nil || !box.keys.Trusts(extra.ID) {
		t.Fatalf("import on the box = %+v, want the cursor at %d, the pack installed and the key list taken", imp, last)
	}
}

func get(t *testing.T, c *http.Client, u string) string {
	t.Helper()
	r, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	b, _ := io.ReadAll(r.Body)
	if r.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", u, r.StatusCode, b)
	}
	return string(b)
}
