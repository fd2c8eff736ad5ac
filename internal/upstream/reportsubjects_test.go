package upstream_test

import (
	"bytes"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

	"github.com/mitstem/stembox/internal/content"
	"github.com/mitstem/stembox/internal/event"
	"github.com/mitstem/stembox/internal/hub"
	"github.com/mitstem/stembox/internal/hub/hubtest"
	"github.com/mitstem/stembox/internal/i18n"
	"github.com/mitstem/stembox/internal/school"
	"github.com/mitstem/stembox/internal/store"
	"github.com/mitstem/stembox/internal/upstream"
)

// Answers to a live question the teacher typed (no pack, no item of one)
// reach the hub's reports, under "Teacher's own questions"; and a pack the
// hub never published is reported under the subject the box's manifest
// gives it, which the box tells in its status.
func TestTypedQuestionsAndUnpublishedPacksInReports(t *testing.T) {
	archive, key := miniPack(t)
	for _, backend := range hubtest.Backends() {
		t.Run(backend.Name, func(t *testing.T) {
			ctx := t.Context()
			h := hubtest.Start(t, t.TempDir(), backend.Target(t), hub.Config{})
			box := newBox(t, content.NewKeyring(key.Public()))
			if _, err := box.lib.Install(bytes.NewReader(archive), int64(len(archive)), content.InstallOptions{}); err != nil {
				t.Fatal(err)
			}
			db := box.db
			u, err := db.CreateUser(ctx, "", school.RoleTeacher, "rustam", "Rustam", "hash")
			if err != nil {
				t.Fatal(err)
			}
			c, err := db.CreateClass(ctx, "user:"+u.ID, "7A", 7, u.ID)
			if err != nil {
				t.Fatal(err)
			}
			st, err := db.AddStudents(ctx, "user:"+u.ID, c.ID, []school.NewStudent{{Name: "Nigina", Gender: "female", BirthYear: 2012}, {Name: "Rustam", Gender: "male", BirthYear: 2012}})
			if err != nil {
				t.Fatal(err)
			}
			if err := db.CreateLiveSession(ctx, store.LiveSession{ID: "L1", Code: "ACEFHJ", TeacherHash: "th", Title: "Quiz", Lang: "tg",
				Options: []byte(`{}`), Questions: []byte(`[]`), Phase: "open", Version: 1}); err != nil {
				t.Fatal(err)
			}
			for i, s := range st {
				learner := "student:" + s.ID
				if err := db.AddLivePlayer(ctx, store.LivePlayer{Session: "L1", ID: "p" + s.ID, TokenHash: "h" + s.ID, Learner: learner, Nickname: s.Name}); err != nil {
					t.Fatal(err)
				}
				// The typed question: the girl is right, the boy is not.
				if _, err := db.RecordLiveResponse(ctx, event.LiveResponse{ID: db.NewID(), Learner: learner, Session: "L1", Question: 0, Player: "p" + s.ID,
					Item: "q0", Kind: "choice", Lang: "tg", Choices: []int{i}, Correct: i == 0, Score: float64(1 - i), ElapsedMS: 3000}); err != nil {
					t.Fatal(err)
				}
				// A typed poll has no right answer: not counted.
				if _, err := db.RecordLiveResponse(ctx, event.LiveResponse{ID: db.NewID(), Learner: learner, Session: "L1", Question: 1, Player: "p" + s.ID,
					Item: "q1", Kind: event.QuestionPoll, Lang: "tg", Choices: []int{0}, ElapsedMS: 900}); err != nil {
					t.Fatal(err)
				}
			}
			// An exercise of the mini pack (subject physics), which the hub
			// never published.
			if _, err := db.RecordAnswer(ctx, event.Answer{Learner: "student:" + st[0].ID, Pack: "mini", PackVersion: "1.0.0", Set: "speed", Item: "choice-1", Lang: "tg", Choices: []int{1}, Correct: true, Score: 1}); err != nil {
				t.Fatal(err)
			}
			s := box.syncer(upstream.Config{HubURL: h.URL, EnrollToken: newToken(t, h, "School 4", "Sughd")})
			if err := s.Sync(ctx); err != nil {
				t.Fatalf("sync: %v", err)
			}

			for _, recount := range []bool{false, true} {
				rep, err := h.Store().Report(ctx, hub.ReportQuery{By: "subject", Recount: recount})
				if err != nil {
					t.Fatal(err)
				}
				got := map[string]hub.ReportRow{}
				for _, r := range rep.Rows {
					got[r.Key] = r
				}
				own, phys := got[hub.OwnQuestions], got["physics"]
				if len(rep.Rows) != 2 || own.Label != "Teacher's own questions" ||
					own.ByGender["female"] != (hub.Figures{Learners: 1, Answers: 1, Items: 1, Mastered: 1}) ||
					own.ByGender["male"] != (hub.Figures{Learners: 1, Answers: 1, Items: 1, Mastered: 0}) ||
					phys.ByGender["all"] != (hub.Figures{Learners: 1, Answers: 1, Items: 1, Mastered: 1}) {
					t.Errorf("report by subject (recount %v): %+v\nwant the typed question's two answers and mini's one under physics", recount, rep.Rows)
				}
			}

			// The operator's page, in each language, and the CSV.
			jar, _ := cookiejar.New(nil)
			browser := &http.Client{Jar: jar}
			resp, err := browser.PostForm(h.URL+"/login", url.Values{"token": {h.Operator}, "next": {"/"}})
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			get := func(path string) string {
				resp, err := browser.Get(h.URL + path)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				b, _ := io.ReadAll(resp.Body)
				if resp.StatusCode != 200 {
					t.Fatalf("GET %s: %d %s", path, resp.StatusCode, b)
				}
				return html.UnescapeString(string(b))
			}
			for _, lang := range []string{"tg", "ru", "en"} {
				get("/lang/" + lang)
				page := get("/reports?by=subject")
				if want := i18n.T(lang, "hub.reports.own_questions"); !strings.Contains(page, want) || !strings.Contains(page, "physics") {
					t.Errorf("%s: the report page lacks %q or physics:\n%s", lang, want, page)
				}
			}
			if csv := get("/reports.csv?by=pack"); !strings.Contains(csv, "Teacher's own questions") || !strings.Contains(csv, "\nmini,") {
				t.Errorf("report CSV by pack:\n%s", csv)
			}
		})
	}
}
