package box_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/mitstem/stembox/internal/auth"
	"github.com/mitstem/stembox/internal/browsertest"
	"github.com/mitstem/stembox/internal/content/contenttest"
	"github.com/mitstem/stembox/internal/school"
	"github.com/mitstem/stembox/internal/studio"
)

// flakyLink is the Wi-Fi between a laptop and the box: while down, every
// request's connection is dropped.
type flakyLink struct {
	*httptest.Server
	down atomic.Bool
}

func newFlakyLink(t *testing.T, box string) *flakyLink {
	t.Helper()
	target, _ := url.Parse(box)
	rp := httputil.NewSingleHostReverseProxy(target)
	l := &flakyLink{}
	l.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if l.down.Load() {
			if c, _, err := http.NewResponseController(w).Hijack(); err == nil {
				c.(*net.TCPConn).SetLinger(0)
				c.Close()
			}
			return
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(l.Close)
	return l
}

// TestBrowserStudioAutosave checks, on the lab's laptop, what the editor
// promises as it saves by itself: "saved" only once the box answered;
// edits typed while the box cannot be reached are kept on the device and
// sent when it is back; edits not yet sent survive a reload; a draft
// changed on another device is not overwritten, and its version can be
// loaded; Undo and Ctrl+Z take back saved changes.
func TestBrowserStudioAutosave(t *testing.T) {
	browsertest.Need(t)
	data, packs := t.TempDir(), t.TempDir()
	contenttest.CopyTree(t, contenttest.MiniDir(), filepath.Join(packs, "mini"))
	b, _ := mustRunBox(t, data, packs)
	link := newFlakyLink(t, "http://"+b.Addr().String())
	base := link.URL
	ctx, db := context.Background(), b.DB()
	const pw = "studio-pw-5678"
	if _, err := db.CreateUser(ctx, "", school.RoleTeacher, "karim", "Karim", auth.Hash(pw)); err != nil {
		t.Fatal(err)
	}
	br := startBrowser(t, 240*time.Second)
	lab := br.tab(t, "laptop", nil)
	lab.open(base+"/lang/ru?next=/login", "/login")
	lab.do(chromedp.SendKeys(chromedp.CSS(`input[name=username]`), "karim"), chromedp.SendKeys(chromedp.CSS(`input[name=password]`), pw))
	lab.submit(`form[action="/login"] button[type=submit]`, "/teach")
	lab.open(base+"/teach/studio", "/teach/studio")
	lab.submit(`form[action="/teach/studio/new"]:first-of-type button`, "/teach/studio/")
	editor := lab.path()
	id := strings.TrimPrefix(editor, "/teach/studio/")
	stored := func() studio.Draft {
		d, err := db.Draft(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	saved := func() { lab.waitJS(`document.getElementById("save-state").className === "save-state saved"`) }
	lab.typeIn(`input[name=title]`, "Дроби")
	saved()
	if got := stored().Doc.Title["ru"]; got != "Дроби" {
		t.Fatalf("after Saved the box holds the title %q", got)
	}

	// The Wi-Fi drops: what she types is kept on the laptop, not "saved".
	link.down.Store(true)
	lab.typeIn(`textarea[name="items.0.prompt"]`, "Сколько будет $1/2 + 1/4$?")
	lab.waitJS(`document.getElementById("save-state").className === "save-state offline"`)
	kept := `Object.keys(localStorage).filter(k => k.indexOf("stembox-studio:` + id + `:") === 0).map(k => localStorage.getItem(k)).join("")`
	lab.waitJS(kept + `.indexOf("1/4") >= 0`)
	if got := stored().Doc.Items[0].Prompt["ru"]; got != "" {
		t.Errorf("while the box was away it got the prompt %q", got)
	}
	// It comes back: the edit is sent without her doing anything.
	link.down.Store(false)
	saved()
	if got := stored().Doc.Items[0].Prompt["ru"]; got != "Сколько будет $1/2 + 1/4$?" {
		t.Errorf("after the box came back it holds the prompt %q", got)
	}
	lab.waitJS(kept + ` === ""`)

	// Typed while away, then the page reloaded with the box back: the edit
	// is put back and saved.
	link.down.Store(true)
	lab.typeIn(`input[name="items.0.c.0.text"]`, "3/4")
	lab.waitJS(kept + `.indexOf("3/4") >= 0`)
	link.down.Store(false)
	lab.open(base+editor, editor)
	saved()
	if got := lab.value(`input[name="items.0.c.0.text"]`); got != "3/4" {
		t.Errorf("after the reload the choice reads %q, want 3/4", got)
	}
	if c := stored().Doc.Items[0].Choices; len(c) == 0 || c[0].Text["ru"] != "3/4" {
		t.Errorf("the box holds the choices %+v, want 3/4 first", c)
	}

	// The phone saves a change meanwhile: the laptop's next save is refused
	// and it offers to load the phone's version.
	d := stored()
	phone := d.Doc
	phone.Title = studio.Text{"ru": "Дроби (с телефона)"}
	if _, err := db.SaveDraft(ctx, id, d.Rev, phone); err != nil {
		t.Fatal(err)
	}
	lab.typeIn(`input[name=grades]`, "5")
	lab.waitJS(`!document.getElementById("studio-conflict").hidden`)
	if got := stored().Doc.Title["ru"]; got != "Дроби (с телефона)" {
		t.Errorf("the laptop's stale save changed the title to %q", got)
	}
	lab.click(`button[data-conflict=load]`)
	if got := lab.value(`input[name=title]`); got != "Дроби (с телефона)" {
		t.Errorf("after loading the box's version the title reads %q", got)
	}

	// Undo, with the button and with Ctrl+Z outside the fields.
	lab.waitJS(`(document.querySelector("input[name=title]").value = "", true)`)
	lab.typeIn(`input[name=title]`, "Дроби 2")
	saved()
	lab.click(`#studio-undo`)
	lab.waitJS(`document.querySelector("input[name=title]").value === "Дроби (с телефона)"`)
	lab.do(chromedp.Click(chromedp.CSS(`h1`)), chromedp.KeyEvent("z", chromedp.KeyModifiers(kb.ModifierCtrl)))
	lab.waitJS(`document.querySelector("input[name=title]").value === "Дроби"`)
	if got := stored().Doc.Title["ru"]; got != "Дроби" {
		t.Errorf("after two undos the box holds the title %q", got)
	}

	// The texts of another language, and back: each keeps its own.
	lab.click(`button.tab[lang=en]`)
	lab.waitJS(`document.querySelector("input[name=title]").value === ""`)
	lab.typeIn(`input[name=title]`, "Fractions")
	saved()
	lab.click(`button.tab[lang=ru]`)
	lab.waitJS(`document.querySelector("input[name=title]").value === "Дроби"`)
	if got := stored().Doc.Title; got["en"] != "Fractions" || got["ru"] != "Дроби" {
		t.Errorf("the box holds the titles %v, want Fractions and Дроби", got)
	}
}
