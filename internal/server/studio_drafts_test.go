package server_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/mitstem/stembox/internal/failure"
	"github.com/mitstem/stembox/internal/gift"
	"github.com/mitstem/stembox/internal/server"
	"github.com/mitstem/stembox/internal/studio"
)

// A teacher copies a pack's set: the new draft is hers, holds the items'
// Markdown and TeX as written (not the built HTML), and publishes as a
// pack of her own.
func TestRemixSetAndPublish(t *testing.T) {
	ctx := context.Background()
	s := mustSchoolWith(t, studioConfig(t))
	d, err := server.RemixSet(s.srv, ctx, "mini", "speed", s.teacherA.ID)
	if err != nil {
		t.Fatal(err)
	}
	if d.Owner != s.teacherA.ID || d.Kind != studio.KindSet || d.Doc.RemixOf != "mini/set/speed" || len(d.Doc.Items) != 5 ||
		strings.Join(d.Doc.Languages, ",") != "en,ru" || d.Doc.Subject != "physics" || d.Doc.Title["ru"] != "Скорость" {
		t.Fatalf("remix: %+v", d)
	}
	it := d.Doc.Items
	if got := it[4].Prompt["ru"]; got != "Как называется величина $s/t$?" {
		t.Errorf("text-5's prompt is %q, want its Markdown with TeX", got)
	}
	if it[0].Choices[1].Feedback["en"] != "Divide, do not multiply." || !it[0].Choices[0].Correct || it[0].Choices[1].Correct {
		t.Errorf("choice-1: %+v", it[0])
	}
	if it[3].Answer != 5 || it[3].Tolerance != 0.01 || it[3].Unit["ru"] != "м/с" || it[2].True {
		t.Errorf("numeric and true/false: %+v %+v", it[3], it[2])
	}
	if strings.Join(it[4].Accepted["ru"], ",") != "скорость" || it[4].Feedback.General["en"] != "$v = s/t$" {
		t.Errorf("text-5: %+v", it[4])
	}
	v, err := server.PublishDraft(s.srv, ctx, d, s.teacherA.ID)
	if err != nil || v.Version != "1.0.0" {
		t.Fatalf("publishing the remix: %+v %v", v, err)
	}

	// The GIFT set of the pack too.
	q, err := server.RemixSet(s.srv, ctx, "mini", "quiz", s.teacherA.ID)
	if err != nil || len(q.Doc.Items) == 0 {
		t.Fatalf("remix of the GIFT set: %+v %v", q, err)
	}
	_, err = server.RemixSet(s.srv, ctx, "mini", "nope", s.teacherA.ID)
	if failure.KindOf(err) != failure.NotFound {
		t.Errorf("remix of a missing set: %v, want NotFound", err)
	}
}

// A lesson's remix is its Markdown, its title apart; a picture the studio
// cannot keep (SVG) is named when publishing, in the lesson's language.
func TestRemixLesson(t *testing.T) {
	ctx := context.Background()
	s := mustSchoolWith(t, studioConfig(t))
	d, err := server.RemixLesson(s.srv, ctx, "mini", "speed", s.teacherA.ID)
	if err != nil {
		t.Fatal(err)
	}
	if d.Kind != studio.KindLesson || d.Doc.Title["en"] != "Speed" || !strings.HasPrefix(d.Doc.Body["en"], "Speed is distance divided by time: $v = \\frac{s}{t}$.") {
		t.Fatalf("lesson remix: title %q body %q", d.Doc.Title["en"], d.Doc.Body["en"])
	}
	_, err = server.PublishDraft(s.srv, ctx, d, s.teacherA.ID)
	if ps := studio.ProblemsOf(err); len(ps) != 1 || ps[0].Field != "body.en" || !strings.Contains(ps[0].Error(), "graph.svg") {
		t.Fatalf("publishing a lesson with an SVG: %v, want a problem naming graph.svg in body.en", err)
	}
	d.Doc.Body["en"] = strings.ReplaceAll(d.Doc.Body["en"], "![A graph of distance against time](media/graph.svg)", "")
	d.Doc.Body["ru"] = strings.ReplaceAll(d.Doc.Body["ru"], "(media/graph.svg)", "(https://example.org/graph.svg)")
	if d, err = s.db.SaveDraft(ctx, d.ID, d.Rev, d.Doc); err != nil {
		t.Fatal(err)
	}
	if v, err := server.PublishDraft(s.srv, ctx, d, s.teacherA.ID); err != nil || v.Version != "1.0.0" {
		t.Fatalf("publishing the lesson: %+v %v", v, err)
	}
}

func TestImportGIFT(t *testing.T) {
	ctx := context.Background()
	s := mustSchoolWith(t, studioConfig(t))
	d, err := server.ImportGIFT(s.srv, ctx, s.teacherA.ID, "test.gift", []byte("::a:: Замин гирд аст? {T}\n\n::b:: $2+2$? {=4 ~5}\n"), "tg")
	if err != nil || len(d.Doc.Items) != 2 || d.Owner != s.teacherA.ID {
		t.Fatalf("import: %+v %v", d, err)
	}
	_, err = server.ImportGIFT(s.srv, ctx, s.teacherA.ID, "bad.gift", []byte("::a:: Q {=a}\n\n::b:: Essay {}\n"), "tg")
	var ge *gift.Error
	if !errors.As(err, &ge) || ge.Line != 3 || failure.KindOf(err) != failure.Invalid {
		t.Fatalf("a bad GIFT file: %v, want the gift package's error at line 3", err)
	}
	if all, _ := s.db.Drafts(ctx, ""); len(all) != 1 {
		t.Fatalf("drafts after a refused import: %d, want 1", len(all))
	}
}

// A teacher sees and edits her own drafts; another teacher neither sees
// nor edits them, but may copy one once it is published; an admin sees
// all and edits none.
func TestStudioPermissions(t *testing.T) {
	ctx := context.Background()
	s := mustSchoolWith(t, studioConfig(t))
	d, err := s.db.CreateDraft(ctx, s.teacherA.ID, studio.KindSet, studioSet("$1+1$?", "2", "3"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.srv.StudioDraftAs(ctx, s.teacherA, d.ID, true); err != nil {
		t.Fatalf("the owner editing: %v", err)
	}
	for _, c := range []struct {
		who  string
		err  error
		kind failure.Kind
	}{
		{"another teacher reading", second(s.srv.StudioDraftAs(ctx, s.teacherB, d.ID, false)), failure.NotFound},
		{"another teacher editing", second(s.srv.StudioDraftAs(ctx, s.teacherB, d.ID, true)), failure.NotFound},
		{"the admin editing", second(s.srv.StudioDraftAs(ctx, s.admin, d.ID, true)), failure.Unauthorized},
		{"another teacher copying a draft never published", second(s.srv.CopyDraftAs(ctx, s.teacherB, d.ID)), failure.NotFound},
	} {
		if got := failure.KindOf(c.err); got != c.kind {
			t.Errorf("%s: %v (%s), want %s", c.who, c.err, got, c.kind)
		}
	}
	if _, err := s.srv.StudioDraftAs(ctx, s.admin, d.ID, false); err != nil {
		t.Errorf("the admin reading: %v", err)
	}
	if mine, _ := s.srv.StudioDraftsAs(ctx, s.teacherB); len(mine) != 0 {
		t.Errorf("teacher B lists %d drafts, want none", len(mine))
	}
	if all, _ := s.srv.StudioDraftsAs(ctx, s.admin); len(all) != 1 {
		t.Errorf("the admin lists %d drafts, want 1", len(all))
	}
	if _, err := server.PublishDraft(s.srv, ctx, d, s.teacherA.ID); err != nil {
		t.Fatal(err)
	}
	c, err := s.srv.CopyDraftAs(ctx, s.teacherB, d.ID)
	if err != nil || c.Owner != s.teacherB.ID || c.ID == d.ID || !strings.HasSuffix(c.Doc.RemixOf, d.ID+"/set/set") {
		t.Fatalf("teacher B copying a published draft: %+v %v", c, err)
	}
	if _, err := s.srv.StudioDraftAs(ctx, s.teacherB, c.ID, true); err != nil {
		t.Errorf("teacher B editing her copy: %v", err)
	}
}

func second[T any](_ T, err error) error { return err }
