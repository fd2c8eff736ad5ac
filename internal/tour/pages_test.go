package tour

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mitstem/stembox/internal/auth"
	"github.com/mitstem/stembox/internal/box"
	"github.com/mitstem/stembox/internal/browsertest"
	"github.com/mitstem/stembox/internal/content/contenttest"
	"github.com/mitstem/stembox/internal/school"
)

// TestPagesOnAPhone audits, as the tour does, the pages whose findings the
// tour's first run fixed: a pack's page (its practice links), a lesson (its
// pager), the sign-in page, a class with a roster and work (names, rows of
// links, menus) and its printable report. Only their own part (main) is
// checked: the header is the navigation's. There must be nothing to find.
func TestPagesOnAPhone(t *testing.T) {
	browsertest.Need(t)
	ctx := context.Background()
	packs := t.TempDir()
	contenttest.CopyTree(t, filepath.Join("..", "..", "content-packs", "climate-energy-change"), filepath.Join(packs, "climate-energy-change"))
	b, err := box.Open(ctx, box.Config{Addr: "127.0.0.1:0", DataDir: t.TempDir(), DevPacks: packs, Lang: "ru"},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- b.Run(runCtx) }()
	t.Cleanup(func() { stop(); <-done; b.Close() })

	db := b.DB()
	teacher, err := db.CreateUser(ctx, "", school.RoleTeacher, "rahimova", teacherName, auth.Hash(teacherPass))
	if err != nil {
		t.Fatal(err)
	}
	class, err := db.CreateClass(ctx, "", className, 7, teacher.ID)
	if err != nil {
		t.Fatal(err)
	}
	var kids []school.NewStudent
	for _, s := range students {
		kids = append(kids, school.NewStudent{Name: s})
	}
	if _, err := db.AddStudents(ctx, "", class.ID, kids); err != nil {
		t.Fatal(err)
	}
	if err := db.Assign(ctx, "", class.ID, "climate-energy-change", "set", "energy-balance"); err != nil {
		t.Fatal(err)
	}

	br := browsertest.Start(t, 120*time.Second)
	tr := &tour{cfg: Config{Out: t.TempDir(), Langs: []string{"ru", "tg"}, Scope: "main", Log: io.Discard},
		base: "http://" + b.Addr().String(), browser: br.Ctx, box: b, rep: &Report{}}
	err = tr.play(func() {
		guest := tr.newTab("guest", "ru", Sizes[0])
		guest.open("/packs/climate-energy-change")
		guest.capture("pack", "")
		guest.open("/packs/climate-energy-change/lessons/greenhouse-effect")
		guest.capture("lesson", "")
		guest.open("/login")
		guest.capture("login", "")
		guest.typeIn(`input[name=username]`, "rahimova")
		guest.typeIn(`input[name=password]`, teacherPass)
		guest.submit(`form[action="/login"] button[type=submit]`)
		guest.open("/teach/classes/" + class.ID)
		guest.capture("class", "")
		guest.open("/teach/classes/" + class.ID + "/report")
		guest.capture("report", "")
	})
	if err != nil {
		t.Fatal(err)
	}
	if tr.rep.Pages != 5 {
		t.Errorf("audited %d pages, want 5", tr.rep.Pages)
	}
	var got []string
	for _, f := range tr.rep.Findings {
		got = append(got, f.String())
	}
	if len(got) > 0 {
		t.Errorf("%d findings on a phone's, a laptop's and a projector's screen:\n%s", len(got), strings.Join(got, "\n"))
	}
}
