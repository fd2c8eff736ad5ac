package box_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mitstem/stembox/internal/box"
	"github.com/mitstem/stembox/internal/content"
	"github.com/mitstem/stembox/internal/content/contenttest"
	"github.com/mitstem/stembox/internal/hub"
	"github.com/mitstem/stembox/internal/hub/hubtest"
	"github.com/mitstem/stembox/internal/upstream"
	"github.com/mitstem/stembox/internal/upstream/wire"
)

// operator is an operator's browser on the hub's pages.
type operator struct {
	t    *testing.T
	base string
	c    *http.Client
}

func signInOperator(t *testing.T, h *hubtest.Hub) *operator {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	op := &operator{t: t, base: h.URL, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	if code, _ := op.post("/login", url.Values{"token": {h.Operator}}); code != 303 {
		t.Fatalf("sign in: %d", code)
	}
	return op
}

func (op *operator) get(path string) (int, string) {
	op.t.Helper()
	resp, err := op.c.Get(op.base + path)
	if err != nil {
		op.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (op *operator) post(path string, form url.Values) (int, string) {
	op.t.Helper()
	resp, err := op.c.PostForm(op.base+path, form)
	if err != nil {
		op.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Location") + string(b)
}

// runEnrolledBox runs a box enrolled with the hub in a new school; it
// syncs only when the test calls Sync (the loop waits an hour).
func runEnrolledBox(t *testing.T, h *hubtest.Hub, school string, trusted ...string) (*box.Box, string) {
	t.Helper()
	tok, err := h.Store().CreateSchool(context.Background(), school, "Sughd", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	data := t.TempDir()
	b, _ := runBoxWith(t, box.Config{Addr: "127.0.0.1:0", DataDir: data, Lang: "en", MDNSName: school, TrustedKeys: trusted,
		Upstream: upstream.Config{HubURL: h.URL, EnrollToken: tok.Token, Every: time.Hour, CatalogueEvery: time.Millisecond}})
	return b, data
}

func syncNow(t *testing.T, b *box.Box) {
	t.Helper()
	if err := b.Upstream().Sync(context.Background()); err != nil {
		t.Fatalf("sync: %v", err)
	}
}

// The teacher studio's way to the other schools: box A's teachers' packs
// go to the hub with A's sync (every version kept, and the installed one),
// once; the operator previews one and publishes it re-signed with the
// programme's key; box C, which never trusted A's key, installs it from
// the hub's catalogue like any published pack.
func TestContributionReachesAThirdBoxThroughTheHub(t *testing.T) {
	programme := contenttest.Signer(t)
	keyFile := filepath.Join(t.TempDir(), "programme-key")
	if err := programme.WriteKeyFiles(keyFile); err != nil {
		t.Fatal(err)
	}
	h := hubtest.Start(t, t.TempDir(), "", hub.Config{SigningKey: keyFile})
	a, dataA := runEnrolledBox(t, h, "School 1")
	keyA := ownSigner(t, dataA)
	id := content.Namespace(keyA.Public().ID) + "quiz1"
	mini, _ := contenttest.MiniPack(t)
	v1 := contenttest.Retag(t, mini, id, "1.0.0", keyA)
	if err := os.MkdirAll(box.StudioPacksDir(dataA), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(box.StudioPacksDir(dataA), content.ArchiveName(id, "1.0.0")), v1, 0o644); err != nil {
		t.Fatal(err)
	}
	installAs(t, a, id, "2.0.0", keyA) // the version in the library, not kept in the folder

	syncNow(t, a)
	cs, err := h.Store().Contributions(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 2 || cs[0].PackID != id || cs[1].PackID != id || cs[0].School != "School 1" || cs[0].Kind != "pack" {
		t.Fatalf("the hub holds %+v, want both versions of %s from School 1", cs, id)
	}
	// Acknowledged: the next sync sends nothing.
	b, err := os.ReadFile(filepath.Join(dataA, "studio", "contributed.json"))
	if err != nil {
		t.Fatal(err)
	}
	var sent struct{ Acked map[string]any }
	if err := json.Unmarshal(b, &sent); err != nil || len(sent.Acked) != 2 {
		t.Fatalf("the box recorded %s, want 2 acknowledgements", b)
	}
	st1, _ := upstream.ReadStatus(context.Background(), a.DB())
	syncNow(t, a)
	st2, _ := upstream.ReadStatus(context.Background(), a.DB())
	if sentBytes := st2.BytesSent - st1.BytesSent; sentBytes > int64(len(v1))/2 {
		t.Errorf("the second sync sent %d bytes: the contributions again?", sentBytes)
	}

	// The operator sees them, previews one, publishes it re-signed.
	var sha string
	for _, c := range cs {
		if c.Version == "2.0.0" {
			sha = c.SHA256
		}
	}
	op := signInOperator(t, h)
	code, page := op.get("/contributions")
	if code != 200 || !strings.Contains(page, "School 1") || !strings.Contains(page, id) || !strings.Contains(page, "/contributions/"+sha) {
		t.Fatalf("contributions page: %d\n%s", code, page)
	}
	code, page = op.get("/contributions/" + sha)
	if code != 200 || !strings.Contains(page, `src="/contributions/`+sha+`/preview"`) {
		t.Fatalf("contribution page: %d\n%s", code, page)
	}
	code, preview := op.get("/contributions/" + sha + "/preview")
	if code != 200 || !strings.Contains(preview, "✓") || !strings.Contains(preview, "<h2>") {
		t.Fatalf("preview: %d\n%s", code, preview)
	}
	// The preview is the box's HTML: a sandboxed document, and only for
	// operators; contributions come only with a box's credential.
	resp, err := op.c.Get(h.URL + "/contributions/" + sha + "/preview")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.HasPrefix(csp, "sandbox;") || !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("the preview's policy is %q, want a sandbox with nothing loaded", csp)
	}
	anon := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, path := range []string{"/contributions", "/contributions/" + sha + "/preview", "/contributions/" + sha + "/archive"} {
		resp, err := anon.Get(h.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 303 || !strings.HasPrefix(resp.Header.Get("Location"), "/login") {
			t.Errorf("GET %s signed out: %d %s, want the sign-in page", path, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
	req, _ := http.NewRequest("POST", h.URL+"/api/v1/contributions", strings.NewReader("x"))
	req.Header.Set("Authorization", "Bearer "+h.Operator)
	resp, err = anon.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Errorf("a contribution with an operator's token: %d, want 401", resp.StatusCode)
	}
	csrf := hiddenFields(page).Get("csrf")
	if code, body := op.post("/contributions/"+sha+"/publish", url.Values{"csrf": {csrf}, "scope": {"all"}}); code != 303 {
		t.Fatalf("publish: %d %s", code, body)
	}
	pv, err := h.Store().Packs(context.Background())
	if err != nil || len(pv) != 1 || pv[0].ID != id || pv[0].Version != "2.0.0" || pv[0].KeyID != programme.Public().ID {
		t.Fatalf("published %+v, want %s 2.0.0 signed by the programme's key %s", pv, id, programme.Public().ID)
	}

	// Box C trusts the programme's key, never A's, and installs it.
	c, _ := runEnrolledBox(t, h, "School 3", keyFile+".pub")
	syncNow(t, c)
	p, ok := c.Library().Pack(id)
	if !ok || p.Manifest.Version != "2.0.0" || p.KeyID != programme.Public().ID {
		t.Fatalf("box C holds %v %v, want %s 2.0.0 signed by the programme's key", ok, p, id)
	}
	if _, ok := c.Library().Keys().BoxKey(keyA.Public().ID); ok || c.Library().Keys().Trusts(keyA.Public().ID) {
		t.Error("box C trusts box A's key")
	}
}

// stickBox runs a box enrolled with h by a credential file (it never
// reaches the hub), holding two of its teachers' packs and a pack outside
// its namespace.
func stickBox(t *testing.T, h *hubtest.Hub, school string) (*box.Box, string, upstream.Contributions) {
	t.Helper()
	ctx := context.Background()
	data := t.TempDir()
	a, _ := runBoxWith(t, box.Config{Addr: "127.0.0.1:0", DataDir: data, Lang: "en"})
	boxID, err := a.DB().BoxID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := h.Store().CreateSchool(ctx, school, "Khatlon", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := h.Store().Enroll(ctx, tok.Token, boxID, "lab")
	if err != nil {
		t.Fatal(err)
	}
	credFile := filepath.Join(t.TempDir(), "box.credential")
	cb, _ := json.Marshal(resp)
	os.WriteFile(credFile, cb, 0o600)
	if _, err := upstream.EnrollFile(ctx, a.DB(), credFile); err != nil {
		t.Fatal(err)
	}
	key := ownSigner(t, data)
	installAs(t, a, content.Namespace(key.Public().ID)+"lesson1", "1.0.0", key)
	installAs(t, a, content.Namespace(key.Public().ID)+"set2", "3.0.0", key)
	installAs(t, a, "mini", "1.0.0", key) // not in its namespace: never contributed
	contrib, err := box.Contributions(data)
	if err != nil {
		t.Fatal(err)
	}
	return a, boxID, contrib
}

// Without a link: the contributions travel beside the USB bundle, the
// hub's import takes those the bundle names (an altered one is refused),
// and the acknowledgement brought back stops the box from writing them
// again.
func TestContributionsOnTheStick(t *testing.T) {
	ctx := context.Background()
	h := hubtest.Start(t, t.TempDir(), "", hub.Config{})
	a, boxID, contrib := stickBox(t, h, "School 2")
	stick := t.TempDir()
	exp, err := upstream.ExportWith(ctx, a.DB(), a.Library(), stick, contrib)
	if err != nil {
		t.Fatal(err)
	}
	if len(exp.Contributions) != 2 {
		t.Fatalf("exported %d contributions, want the box's 2 packs", len(exp.Contributions))
	}
	// One file altered on the way: refused, the other taken.
	altered := filepath.Join(stick, wire.ContribFileName(boxID, exp.Contributions[0]))
	b, err := os.ReadFile(altered)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0xff
	os.WriteFile(altered, b, 0o644)
	res, err := h.Store().ImportBundleFile(ctx, exp.Path, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Contributions) != 1 || res.Contributions[0].SHA256 != exp.Contributions[1] || len(res.ContribProblems) != 1 || !strings.Contains(res.ContribProblems[0], "altered") {
		t.Fatalf("stick import took %+v, problems %v; want the unaltered one taken and the altered one refused", res.Contributions, res.ContribProblems)
	}
	cs, _ := h.Store().Contributions(ctx)
	if len(cs) != 1 || cs[0].School != "School 2" {
		t.Fatalf("the hub holds %+v", cs)
	}
	// Back on the box: the acknowledgement records the one taken.
	if _, err := upstream.ImportWith(ctx, a.DB(), a.Library(), stick, contrib); err != nil {
		t.Fatal(err)
	}
	stick2 := t.TempDir()
	exp2, err := upstream.ExportWith(ctx, a.DB(), a.Library(), stick2, contrib)
	if err != nil {
		t.Fatal(err)
	}
	if len(exp2.Contributions) != 1 || exp2.Contributions[0] != exp.Contributions[0] {
		t.Fatalf("the next stick carries %v, want only the one the hub refused (%s)", exp2.Contributions, exp.Contributions[0])
	}
}

// The hub's import page takes the contributions uploaded beside the bundle,
// and the acknowledgement it gives names them.
func TestContributionsOnTheImportPage(t *testing.T) {
	ctx := context.Background()
	h := hubtest.Start(t, t.TempDir(), "", hub.Config{Lang: "en"})
	a, boxID, contrib := stickBox(t, h, "School 4")
	stick := t.TempDir()
	exp, err := upstream.ExportWith(ctx, a.DB(), a.Library(), stick, contrib)
	if err != nil || len(exp.Contributions) != 2 {
		t.Fatalf("export: %v, %d contributions", err, len(exp.Contributions))
	}
	op := signInOperator(t, h)
	_, page := op.get("/import")
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("csrf", hiddenFields(page).Get("csrf"))
	add := func(field, path string) {
		w, _ := mw.CreateFormFile(field, filepath.Base(path))
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(b)
	}
	add("bundle", exp.Path)
	for _, sha := range exp.Contributions {
		add("contributions", filepath.Join(stick, wire.ContribFileName(boxID, sha)))
	}
	mw.Close()
	resp, err := op.c.Post(h.URL+"/import", mw.FormDataContentType(), &body)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || strings.Count(string(b), "taken: see Contributions") != 2 {
		t.Fatalf("import page: %d\n%s", resp.StatusCode, b)
	}
	// The acknowledgement downloaded from the page names them: back on the
	// box, they are written no more.
	resp, err = op.c.Get(h.URL + "/imports/" + bundleHash(t, exp.Path))
	if err != nil {
		t.Fatal(err)
	}
	ack, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	back := t.TempDir()
	os.WriteFile(filepath.Join(back, "x"+wire.AckExt), ack, 0o644)
	if _, err := upstream.ImportWith(ctx, a.DB(), a.Library(), back, contrib); err != nil {
		t.Fatal(err)
	}
	exp2, err := upstream.ExportWith(ctx, a.DB(), a.Library(), t.TempDir(), contrib)
	if err != nil || len(exp2.Contributions) != 0 {
		t.Fatalf("after the acknowledgement the box still writes %d contributions (%v)", len(exp2.Contributions), err)
	}
}

// bundleHash is the hash the hub names a bundle by.
func bundleHash(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, err := wire.ReadBundle(f, 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	return b.SHA256()
}
