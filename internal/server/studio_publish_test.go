package server_test

import (
	"context"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/mitstem/stembox/internal/content"
	"github.com/mitstem/stembox/internal/content/contenttest"
	"github.com/mitstem/stembox/internal/event"
	"github.com/mitstem/stembox/internal/failure"
	"github.com/mitstem/stembox/internal/server"
	"github.com/mitstem/stembox/internal/studio"
)

// studioConfig publishes with the key the test library trusts, into a
// temporary studio folder.
func studioConfig(t testing.TB) server.Config {
	t.Helper()
	_, key := miniPack(t)
	return server.Config{Studio: server.StudioConfig{Signer: key, Dir: t.TempDir(),
		Builder: func() (*content.Builder, error) { return contenttest.Builder(t), nil }}}
}

func studioSet(prompt string, choices ...string) studio.Doc {
	q1 := studio.Item{ID: "q1", Type: "choice", Prompt: studio.Text{"ru": prompt}}
	for i, c := range choices {
		q1.Choices = append(q1.Choices, studio.Choice{Text: studio.Text{"ru": c}, Correct: i == 0})
	}
	poll := studio.Item{ID: "q2", Type: "poll", Prompt: studio.Text{"ru": "Нравится ли вам физика?"},
		Choices: []studio.Choice{{Text: studio.Text{"ru": "Да"}}, {Text: studio.Text{"ru": "Нет"}}}}
	return studio.Doc{Title: studio.Text{"ru": "Мой тест"}, Subject: "physics", Grades: []int{7}, Languages: []string{"ru"},
		Items: []studio.Item{q1, poll}}
}

// A teacher publishes a set, a student answers it, she edits it and
// publishes again: the pack is 2.0.0, and the student's answers, the item
// analysis and the results CSV still show the question as it was asked
// on 1.0.0.
func TestPublishDraftKeepsOldResultsReadable(t *testing.T) {
	ctx := context.Background()
	cfg := studioConfig(t)
	s := mustSchoolWith(t, cfg)
	d, err := s.db.CreateDraft(ctx, s.teacherA.ID, studio.KindSet, studioSet("Сколько будет $2+2$?", "4", "5"))
	if err != nil {
		t.Fatal(err)
	}
	v1, err := server.PublishDraft(s.srv, ctx, d, s.teacherA.ID)
	if err != nil {
		t.Fatal(err)
	}
	pack := content.Namespace(cfg.Studio.Signer.Public().ID) + d.ID
	p, ok := s.lib.Pack(pack)
	if v1.Version != "1.0.0" || !ok || p.Manifest.Version != "1.0.0" || p.Sets["set"] == nil || len(p.Sets["set"].Items) != 2 {
		t.Fatalf("published %+v; installed %v %+v, want 1.0.0 with the set of 2 items", v1, ok, p)
	}
	if _, err := os.Stat(server.StudioArchive(cfg.Studio.Dir, pack, "1.0.0")); err != nil {
		t.Fatalf("the archive of 1.0.0 is not kept: %v", err)
	}
	evs, _ := s.db.EventsAfter(ctx, 0, 1000)
	last := evs[len(evs)-1]
	if last.Kind != event.KindStudioPublished || last.Actor != "user:"+s.teacherA.ID {
		t.Fatalf("the last event is %s by %s, want studio.published by the teacher", last.Kind, last.Actor)
	}

	student := s.device(t, "ru")
	wantStatus(t, student.postForm("/student/"+s.classA.Code, url.Values{"student": {s.studentsA[0].ID}}), 303)
	set := "/packs/" + pack + "/sets/set/"
	wantStatus(t, student.postForm(set+"1", url.Values{"choice": {"1"}, "id": {formID(t, student.get(set+"1"))}}), 303)
	r := student.postForm(set+"2", url.Values{"choice": {"0"}, "id": {formID(t, student.get(set+"2"))}})
	wantStatus(t, r, 303)
	r = student.get(r.Header.Get("Location"))
	wantContains(t, r, "Ваш ответ записан")
	wantLacks(t, r, "Неверно")

	if d, err = s.db.SaveDraft(ctx, d.ID, d.Rev, studioSet("Сколько будет $3+3$?", "6", "7")); err != nil {
		t.Fatal(err)
	}
	v2, err := server.PublishDraft(s.srv, ctx, d, s.teacherA.ID)
	if err != nil || v2.Version != "2.0.0" {
		t.Fatalf("second publish: %+v %v, want 2.0.0", v2, err)
	}
	if p, _ := s.lib.Pack(pack); p.Manifest.Version != "2.0.0" {
		t.Fatalf("installed %s, want 2.0.0", p.Manifest.Version)
	}
	if d, _ = s.db.Draft(ctx, d.ID); len(d.Versions) != 2 || d.Versions[1].Rev != 2 {
		t.Fatalf("versions %+v, want 1.0.0 and 2.0.0 of revision 2", d.Versions)
	}

	teacher := s.device(t, "ru")
	teacher.signIn("aziza", password)
	r = teacher.get("/teach/classes/" + s.classA.ID + "/students/" + s.studentsA[0].ID)
	wantContains(t, r, "2+2", `<dd lang="ru">5</dd>`, "опрос", `<dd lang="ru">Да</dd>`)
	wantLacks(t, r, "3+3", `<dd lang="ru">7</dd>`)
	r = teacher.get("/teach/classes/" + s.classA.ID + "/sets/" + pack + "/set")
	wantContains(t, r, `<span lang="ru">5</span> × 1`, "Опрос: 1 ответов от 1 учеников", `<span lang="ru">Да</span> × 1`)
	r = teacher.get("/teach/classes/" + s.classA.ID + "/results.csv")
	wantContains(t, r, ",q1,Сколько будет $2+2$?,false,0,5,4,")
}

// A formula KaTeX refuses, or a picture the box does not have, is a
// problem naming the item: nothing is installed, kept or recorded.
func TestPublishDraftProblems(t *testing.T) {
	ctx := context.Background()
	cfg := studioConfig(t)
	s := mustSchoolWith(t, cfg)
	doc := studioSet("Сколько будет $2+2$?", "4", "5")
	doc.Items[1].Prompt["ru"] = `Что такое $\frac{1}{$?`
	d, err := s.db.CreateDraft(ctx, s.teacherA.ID, studio.KindSet, doc)
	if err != nil {
		t.Fatal(err)
	}
	pack := content.Namespace(cfg.Studio.Signer.Public().ID) + d.ID
	nothing := func(what string) {
		t.Helper()
		if _, ok := s.lib.Pack(pack); ok {
			t.Errorf("%s: the pack was installed", what)
		}
		if vs, _ := s.db.DraftVersions(ctx, d.ID); len(vs) != 0 {
			t.Errorf("%s: versions were recorded: %+v", what, vs)
		}
		if _, err := os.Stat(server.StudioArchive(cfg.Studio.Dir, pack, "1.0.0")); err == nil {
			t.Errorf("%s: an archive was kept", what)
		}
	}
	_, err = server.PublishDraft(s.srv, ctx, d, s.teacherA.ID)
	ps := studio.ProblemsOf(err)
	if failure.KindOf(err) != failure.Invalid || len(ps) != 1 || ps[0].Item != 2 || ps[0].Key != "studio.problem.markup" {
		t.Fatalf("publishing bad TeX: %v (%+v), want one markup problem in question 2", err, ps)
	}
	nothing("bad TeX")

	doc.Items[1].Prompt["ru"] = "![Весы](media/" + strings.Repeat("ab", 32) + ".jpg) Что тяжелее?"
	if d, err = s.db.SaveDraft(ctx, d.ID, d.Rev, doc); err != nil {
		t.Fatal(err)
	}
	_, err = server.PublishDraft(s.srv, ctx, d, s.teacherA.ID)
	if ps := studio.ProblemsOf(err); len(ps) != 1 || ps[0].Key != "studio.problem.media" {
		t.Fatalf("publishing a missing picture: %v, want a media problem", err)
	}
	nothing("a missing picture")

	doc.Items[0].Choices[1].Correct = true
	_, err = server.PublishDraft(s.srv, ctx, studio.Draft{ID: d.ID, Kind: d.Kind, Rev: d.Rev, Doc: doc}, s.teacherA.ID)
	if ps := studio.ProblemsOf(err); len(ps) != 1 || ps[0].Key != "studio.problem.one_correct" {
		t.Fatalf("publishing two right choices: %v, want one_correct", err)
	}
	nothing("an invalid draft")
}

// Two publishes of one draft at once (two tabs, twice over) make two
// versions, one after the other, never a clash.
func TestPublishDraftConcurrently(t *testing.T) {
	ctx := context.Background()
	s := mustSchoolWith(t, studioConfig(t))
	d, err := s.db.CreateDraft(ctx, s.teacherA.ID, studio.KindSet, studioSet("$1+1$?", "2", "3"))
	if err != nil {
		t.Fatal(err)
	}
	for round := 0; round < 2; round++ {
		var wg sync.WaitGroup
		for i := 0; i < 2; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := server.PublishDraft(s.srv, ctx, d, s.teacherA.ID); err != nil {
					t.Errorf("publish: %v", err)
				}
			}()
		}
		wg.Wait()
	}
	vs, _ := s.db.DraftVersions(ctx, d.ID)
	if len(vs) != 4 || vs[3].Version != "4.0.0" {
		t.Fatalf("versions %+v, want 1.0.0 to 4.0.0", vs)
	}
}

// A poll counts for no mastery: under "all questions right", a student who
// got the one graded question right and voted in the poll has mastered the
// set.
func TestPollLeftOutOfMastery(t *testing.T) {
	ctx := context.Background()
	cfg := studioConfig(t)
	s := mustSchoolWith(t, cfg)
	d, err := s.db.CreateDraft(ctx, s.teacherA.ID, studio.KindSet, studioSet("$2+2$?", "4", "5"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := server.PublishDraft(s.srv, ctx, d, s.teacherA.ID); err != nil {
		t.Fatal(err)
	}
	pack := content.Namespace(cfg.Studio.Signer.Public().ID) + d.ID
	if err := s.db.UpdateClass(ctx, "", s.classA.ID, "name", "all"); err != nil {
		t.Fatal(err)
	}
	if err := s.db.Assign(ctx, "", s.classA.ID, pack, "set", "set"); err != nil {
		t.Fatal(err)
	}
	student := s.device(t, "en")
	wantStatus(t, student.postForm("/student/"+s.classA.Code, url.Values{"student": {s.studentsA[1].ID}}), 303)
	set := "/packs/" + pack + "/sets/set/"
	for n, choice := range []string{"0", "1"} {
		path := set + strconv.Itoa(n+1)
		wantStatus(t, student.postForm(path, url.Values{"choice": {choice}, "id": {formID(t, student.get(path))}}), 303)
	}
	wantContains(t, student.get("/packs/"+pack+"/sets/set"), "2 of 2")
	teacher := s.device(t, "en")
	teacher.signIn("aziza", password)
	heat := teacher.get("/teach/classes/" + s.classA.ID + "/progress")
	if n := strings.Count(heat.body, `<td class="cell mastered"`); n != 1 {
		t.Fatalf("the heatmap has %d mastered cells, want Farrukh's on the studio set:\n%s", n, heat.body)
	}
}
