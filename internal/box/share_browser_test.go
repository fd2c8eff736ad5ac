package box_test

import (
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/mitstem/stembox/internal/browsertest"
	"github.com/mitstem/stembox/internal/content"
	"github.com/mitstem/stembox/internal/content/contenttest"
	"github.com/mitstem/stembox/internal/hub"
	"github.com/mitstem/stembox/internal/hub/hubtest"
)

// TestBrowserShareATeachersPack, in Chromium at 360×640: box B's admin
// sees box A's teacher's pack as not trusted, opens "trust this box",
// finds the fingerprint box A shows of itself, accepts it and copies the
// pack; box A's sync takes the pack to the hub, whose operator previews
// it and publishes it re-signed; box C installs it from the hub.
func TestBrowserShareATeachersPack(t *testing.T) {
	browsertest.Need(t)
	programme := contenttest.Signer(t)
	keyFile := filepath.Join(t.TempDir(), "programme-key")
	if err := programme.WriteKeyFiles(keyFile); err != nil {
		t.Fatal(err)
	}
	h := hubtest.Start(t, t.TempDir(), "", hub.Config{SigningKey: keyFile, Lang: "en"})
	a, dataA := runEnrolledBox(t, h, "School 1")
	keyA := ownSigner(t, dataA)
	id := content.Namespace(keyA.Public().ID) + "quiz1"
	installAs(t, a, id, "1.0.0", keyA)
	b, _ := runNamedBox(t, t.TempDir(), "Room 7")
	baseA, baseB := baseOf(a), baseOf(b)

	shots := newShooter(t)
	br := startBrowser(t, 180*time.Second)
	phone := func(name string) *tab {
		return br.tab(t, name, chromedp.EmulateViewport(360, 640, chromedp.EmulateScale(2), chromedp.EmulateMobile, chromedp.EmulateTouch))
	}
	adminB, adminA := phone("admin of box B"), phone("admin of box A")

	adminB.open(baseB+"/lang/en?next="+url.QueryEscape("/admin/peers?url="+baseA), "/admin/peers")
	if got := adminB.text(`.peer-packs li`); !strings.Contains(got, "from box School 1 — not trusted") {
		t.Fatalf("box B lists box A's pack as %q", got)
	}
	adminB.noSideScroll("peers page")
	shots.take(adminB, "b-peers-not-trusted")
	adminB.tapTo(`a[href^="/admin/peers/trust"]`, "/admin/peers/trust")
	shown := adminB.text(`#peer-fingerprint`)
	adminB.noSideScroll("trust page")
	shots.take(adminB, "b-trust")

	adminA.open(baseA+"/lang/en?next=/admin/peers", "/admin/peers")
	if own := adminA.text(`#own-fingerprint`); own != shown || own != content.Fingerprint(keyA.Public()) {
		t.Fatalf("box B shows %q for box A; box A shows %q of itself; its key's is %q", shown, own, content.Fingerprint(keyA.Public()))
	}
	shots.take(adminA, "a-own-fingerprint")

	adminB.tapTo(`form[action="/admin/peers/trust"] button[type=submit]`, "/admin/peers")
	adminB.tapTo(`form[action="/admin/peers/fetch"] button[type=submit]`, "/admin/peers")
	for deadline := time.Now().Add(30 * time.Second); ; {
		if _, ok := b.Library().Pack(id); ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("box B did not install box A's pack after its admin trusted A:\n%s", adminB.bodyText())
		}
		time.Sleep(50 * time.Millisecond)
	}
	adminB.open(baseB+"/admin/peers?url="+url.QueryEscape(baseA), "/admin/peers")
	shots.take(adminB, "b-copied-and-trusted")

	// The hub.
	syncNow(t, a)
	op := br.tab(t, "operator", nil)
	op.open(h.URL+"/lang/en?next=/login", "/login")
	op.do(chromedp.SendKeys(chromedp.CSS(`input[name=token]`), h.Operator))
	op.submit(`form[action="/login"] button[type=submit]`, "/")
	op.open(h.URL+"/contributions", "/contributions")
	shots.take(op, "hub-contributions")
	op.submit(`td a[href^="/contributions/"]`, "/contributions/")
	op.do(chromedp.WaitVisible(chromedp.CSS(`iframe.preview`)), chromedp.Sleep(time.Second)) // the sandboxed frame cannot be watched: give it a moment to paint
	shots.take(op, "hub-contribution-preview")
	op.submit(`form[action$="/publish"] button[type=submit]`, "/contributions/")
	if got := op.text(`main`); !strings.Contains(got, id+" 1.0.0 published") {
		t.Fatalf("after publishing the page says:\n%s", got)
	}
	shots.take(op, "hub-published")

	c, _ := runEnrolledBox(t, h, "School 3", keyFile+".pub")
	syncNow(t, c)
	if p, ok := c.Library().Pack(id); !ok || p.KeyID != programme.Public().ID {
		t.Fatalf("box C did not install %s signed by the programme's key", id)
	}
}
