package box_test

import (
	"bytes"
	"context"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mitstem/stembox/internal/box"
	"github.com/mitstem/stembox/internal/content"
	"github.com/mitstem/stembox/internal/content/contenttest"
)

// runBoxWith opens and runs a box with cfg, logging nowhere, and returns
// a function that stops it cleanly (the test's end stops it too).
func runBoxWith(t *testing.T, cfg box.Config) (*box.Box, func()) {
	t.Helper()
	b, err := box.Open(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatalf("open box: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("run: %v", err)
			}
			b.Close()
		})
	}
	t.Cleanup(stop)
	return b, stop
}

// runNamedBox runs a box named name (no packs built).
func runNamedBox(t *testing.T, data, name string) (*box.Box, func()) {
	t.Helper()
	return runBoxWith(t, box.Config{Addr: "127.0.0.1:0", DataDir: data, Lang: "en", MDNSName: name})
}

func baseOf(b *box.Box) string { return "http://" + b.Addr().String() }

// ownSigner is the box's own key.
func ownSigner(t *testing.T, data string) *content.Signer {
	t.Helper()
	s, err := content.LoadSigner(box.DevKeyPath(data))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// installAs installs the mini pack on b as pack id, signed by s.
func installAs(t *testing.T, b *box.Box, id, version string, s *content.Signer) {
	t.Helper()
	mini, _ := contenttest.MiniPack(t)
	a := contenttest.Retag(t, mini, id, version, s)
	if _, err := b.Library().Install(bytes.NewReader(a), int64(len(a)), content.InstallOptions{}); err != nil {
		t.Fatalf("install %s on its own box: %v", id, err)
	}
}

func postForm(t *testing.T, b *box.Box, path string, form url.Values) (int, string, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", baseOf(b)+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Location"), string(body)
}

// fetchFrom copies pack id from peer to b through b's admin page, and
// waits for the copy to end; it returns the admin page then.
func fetchFrom(t *testing.T, b, peerBox *box.Box, id string) string {
	t.Helper()
	var code int
	var body string
	for deadline := time.Now().Add(10 * time.Second); ; {
		code, _, body = postForm(t, b, "/admin/peers/fetch", url.Values{"peer": {baseOf(peerBox)}, "pack": {id}})
		if code != 503 && code != 409 || time.Now().After(deadline) {
			break // 503: the jobs are not running yet; 409: the last copy is still running
		}
		time.Sleep(20 * time.Millisecond)
	}
	if code != 303 {
		t.Fatalf("POST fetch %s: %d %s", id, code, body)
	}
	for deadline := time.Now().Add(30 * time.Second); ; {
		_, page := get(t, b, "/admin/peers")
		if !strings.Contains(page, `http-equiv="refresh"`) {
			return page
		}
		if time.Now().After(deadline) {
			t.Fatalf("the copy of %s did not end", id)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

var hiddenRE = regexp.MustCompile(`<input type="hidden" name="([a-z]+)" value="([^"]*)">`)

func hiddenFields(page string) url.Values {
	v := url.Values{}
	for _, m := range hiddenRE.FindAllStringSubmatch(page, -1) {
		v.Set(m[1], html.UnescapeString(m[2]))
	}
	return v
}

var fingerprintRE = regexp.MustCompile(`id="(own|peer)-fingerprint">([0-9A-F ]{19})<`)

func fingerprintOn(t *testing.T, page string) string {
	t.Helper()
	m := fingerprintRE.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no fingerprint on the page:\n%s", page)
	}
	return m[2]
}

// Two real boxes over loopback: box B copies box A's teachers' pack only
// after its admin accepted A's key by its fingerprint; never a pack A's key
// signs outside A's namespace; and not after A's key changed.
func TestBoxCopiesAnotherBoxsPackAfterTrust(t *testing.T) {
	dataA, dataB := t.TempDir(), t.TempDir()
	a, stopA := runNamedBox(t, dataA, "Room A")
	b, stopB := runNamedBox(t, dataB, "Room B")
	keyA := ownSigner(t, dataA)
	studio := content.Namespace(keyA.Public().ID) + "quiz1"
	installAs(t, a, studio, "1.0.0", keyA)
	installAs(t, a, "mini", "1.0.0", keyA) // outside A's namespace: A takes it (its own key is its root), B must not

	// Before trust: listed as from box A, not trusted; a copy is refused.
	peers := "/admin/peers?url=" + url.QueryEscape(baseOf(a))
	code, page := get(t, b, peers)
	if code != 200 {
		t.Fatalf("peers page: %d\n%s", code, page)
	}
	for _, want := range []string{"from box Room A — not trusted", "Trust this box", "signed by key " + keyA.Public().ID + ", which this box does not trust"} {
		if !strings.Contains(html.UnescapeString(page), want) {
			t.Errorf("box B's peers page lacks %q:\n%s", want, page)
		}
	}
	page = fetchFrom(t, b, a, studio)
	if _, ok := b.Library().Pack(studio); ok {
		t.Fatal("box B copied box A's pack before its admin trusted A's key")
	}
	if !strings.Contains(page, "failed") || !strings.Contains(page, "does not trust") {
		t.Errorf("the failed copy is not shown as refused for an untrusted key:\n%s", page)
	}

	// The fingerprint B shows is the one A shows of itself.
	_, pageA := get(t, a, "/admin/peers")
	own := fingerprintOn(t, pageA)
	if own != content.Fingerprint(keyA.Public()) {
		t.Fatalf("box A shows fingerprint %q, want its key's %q", own, content.Fingerprint(keyA.Public()))
	}
	code, trustPage := get(t, b, "/admin/peers/trust?peer="+url.QueryEscape(baseOf(a)))
	if code != 200 {
		t.Fatalf("trust page: %d\n%s", code, trustPage)
	}
	if got := fingerprintOn(t, trustPage); got != own {
		t.Fatalf("box B shows box A's fingerprint as %q; box A shows %q", got, own)
	}
	if _, ok := b.Library().Keys().BoxKey(keyA.Public().ID); ok {
		t.Fatal("opening the trust page trusted the key")
	}

	// Accepted: the copy works.
	form := hiddenFields(trustPage) // what the admin's browser sends
	if form.Get("key") != keyA.Public().String() || form.Get("name") != "Room A" {
		t.Fatalf("the trust form carries %v, want box A's key and name", form)
	}
	if code, loc, body := postForm(t, b, "/admin/peers/trust", form); code != 303 || !strings.HasPrefix(loc, "/admin/peers") {
		t.Fatalf("POST trust: %d %s %s", code, loc, body)
	}
	fetchFrom(t, b, a, studio)
	if p, ok := b.Library().Pack(studio); !ok || p.KeyID != keyA.Public().ID {
		t.Fatalf("box B did not install box A's pack after trusting A's key")
	}
	_, page = get(t, b, peers)
	if !strings.Contains(page, "Room A") || !strings.Contains(page, "Stop trusting") || !strings.Contains(page, studio+" 1.0.0 · the same as on this box") {
		t.Errorf("after the copy the peers page does not show the trusted box and the pack:\n%s", page)
	}

	// A pack A's key signs outside A's namespace stays refused.
	page = fetchFrom(t, b, a, "mini")
	if _, ok := b.Library().Pack("mini"); ok {
		t.Fatal("box B installed a pack outside box A's namespace signed by A's key")
	}
	if !strings.Contains(page, "trusts only for packs whose id starts with") {
		t.Errorf("the refused copy does not say why:\n%s", page)
	}

	// A restarts with another key (the same box): not trusted, and B's
	// page says the key changed.
	stopA()
	os.Remove(box.DevKeyPath(dataA))
	os.Remove(box.DevKeyPath(dataA) + ".pub")
	a2, _ := runNamedBox(t, dataA, "Room A")
	keyA2 := ownSigner(t, dataA)
	if keyA2.Public().ID == keyA.Public().ID {
		t.Fatal("the box kept its key")
	}
	studio2 := content.Namespace(keyA2.Public().ID) + "quiz1"
	installAs(t, a2, studio2, "1.0.0", keyA2)
	_, page = get(t, b, "/admin/peers?url="+url.QueryEscape(baseOf(a2)))
	if !strings.Contains(html.UnescapeString(page), "from box Room A — not trusted") || !strings.Contains(page, "now shows another key") {
		t.Errorf("after A's key changed, B's page does not say so:\n%s", page)
	}
	_, trustPage = get(t, b, "/admin/peers/trust?peer="+url.QueryEscape(baseOf(a2)))
	if got := fingerprintOn(t, trustPage); got == own || got != content.Fingerprint(keyA2.Public()) {
		t.Errorf("the trust page shows %q for A's new key; the old was %q", got, own)
	}
	fetchFrom(t, b, a2, studio2)
	if _, ok := b.Library().Pack(studio2); ok {
		t.Fatal("box B copied a pack signed by A's new key, which its admin never accepted")
	}

	// B restarted, twice: the trust and the pack stay.
	for range 2 {
		stopB()
		b, stopB = runNamedBox(t, dataB, "Room B")
		if _, ok := b.Library().Keys().BoxKey(keyA.Public().ID); !ok {
			t.Fatal("after a restart box B no longer trusts box A's key")
		}
		if code, _ := get(t, b, "/packs/"+studio); code != 200 {
			t.Fatalf("after a restart box B does not serve box A's pack: %d", code)
		}
	}

	// Trust taken back: A's old pack is no longer served on B.
	if code, _, body := postForm(t, b, "/admin/peers/untrust", url.Values{"key": {keyA.Public().ID}}); code != 303 {
		t.Fatalf("POST untrust: %d %s", code, body)
	}
	if _, ok := b.Library().Pack(studio); ok {
		t.Error("a pack of a box no longer trusted is still served")
	}
	if code, _ := get(t, b, "/packs/"+studio); code != 404 {
		t.Errorf("GET the pack of a box no longer trusted: %d, want 404", code)
	}
}
