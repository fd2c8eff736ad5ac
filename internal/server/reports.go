package server

import (
	"html/template"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/mitstem/stembox/internal/content"
	"github.com/mitstem/stembox/internal/failure"
	"github.com/mitstem/stembox/internal/gradebook"
	"github.com/mitstem/stembox/internal/i18n"
	"github.com/mitstem/stembox/internal/learn"
	"github.com/mitstem/stembox/internal/school"
	"github.com/mitstem/stembox/internal/store"
)

func masteryText(lang string, r learn.MasteryRule) string {
	switch r.Kind {
	case "all":
		return i18n.T(lang, "mastery.all")
	case "streak":
		return i18n.T(lang, "mastery.streak", r.N)
	}
	return i18n.T(lang, "mastery.last", r.M, r.N)
}

type itemRow struct {
	N           int
	Prompt      template.HTML
	Tried       int
	Attempts    int
	Percent     int // of attempts that were correct
	FirstRight  int // percent of learners right at their first attempt
	Wrong       []wrongAnswer
	NotTried    []string
	HasAttempts bool
	Poll        bool // a poll: its answers are votes, none right or wrong
}

type wrongAnswer struct {
	Answer template.HTML
	Count  int
}

// handleItemAnalysis shows, per exercise of a set, how the class did: the
// share of correct answers, the most common wrong answers, and who has not
// tried it.
func (s *Server) handleItemAnalysis(w http.ResponseWriter, r *http.Request, v *viewer, c school.Class) {
	lang := s.lang(r)
	p, ok := s.lib.Pack(r.PathValue("pack"))
	if !ok {
		s.fail(w, r, failure.Errorf(failure.NotFound, "%s", i18n.T(lang, "error.no_pack", r.PathValue("pack"))))
		return
	}
	set, ok := p.Sets[r.PathValue("set")]
	if !ok {
		s.fail(w, r, failure.Errorf(failure.NotFound, "%s", i18n.T(lang, "error.no_set", r.PathValue("set"))))
		return
	}
	students, err := s.db.Students(r.Context(), c.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	atts, err := s.db.Attempts(r.Context(), school.LearnerIDs(students), p.Manifest.ID, set.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	names := map[string]string{}
	for _, st := range students {
		names[st.LearnerID()] = st.Name
	}
	m := &p.Manifest
	cl := contentLang(lang, m.Languages)
	var rows []itemRow
	for n, it := range set.Items {
		row := itemRow{N: n + 1, Prompt: template.HTML(it.Prompt.In(cl, m.Languages[0]))}
		first := map[string]bool{}
		tried := map[string]bool{}
		wrong := map[[2]string]int{} // by the version answered on and the answer
		right := 0
		firstRight := 0
		for _, a := range atts {
			if a.Item != it.ID {
				continue
			}
			row.Attempts++
			if a.Correct {
				right++
			} else {
				wrong[[2]string{a.Version, a.Answer}]++
			}
			if !first[a.Learner] {
				first[a.Learner] = true
				if a.Correct {
					firstRight++
				}
			}
			tried[a.Learner] = true
		}
		row.Tried = len(tried)
		row.HasAttempts = row.Attempts > 0
		if row.Attempts > 0 {
			row.Percent = (100*right + row.Attempts/2) / row.Attempts
			row.FirstRight = (100*firstRight + len(tried)/2) / len(tried)
		}
		row.Poll = it.Kind == learn.Poll
		row.Wrong = s.wrongAnswers(lang, m, set, n, cl, wrong)
		if len(row.Wrong) > 3 && !row.Poll {
			row.Wrong = row.Wrong[:3]
		}
		for _, st := range students {
			if !tried[st.LearnerID()] {
				row.NotTried = append(row.NotTried, st.Name)
			}
		}
		rows = append(rows, row)
	}
	s.render(w, r, http.StatusOK, "items", set.Title.In(cl, m.Languages[0]), true, struct {
		Class    school.Class
		SetTitle string
		Lang     string
		Rows     []itemRow
	}{c, set.Title.In(cl, m.Languages[0]), cl, rows})
}

// wrongAnswers shows the wrong answers to item n of set, counted by the
// version of the pack they were given on and the answer: each as its
// version's question shows it (a choice's text may have changed since),
// the most common first.
func (s *Server) wrongAnswers(lang string, m *content.Manifest, set *learn.Set, n int, cl string, wrong map[[2]string]int) []wrongAnswer {
	current := gradebook.Question{Item: &set.Items[n], Lang: cl, Fallback: m.Languages[0]}
	counts := map[template.HTML]int{}
	for k, count := range wrong {
		q := current
		if k[0] != "" && k[0] != m.Version {
			if old, ok := s.questionOf(lang, store.Attempt{Pack: m.ID, Version: k[0], Set: set.ID, Item: set.Items[n].ID}); ok {
				q = old
			}
		}
		counts[template.HTML(q.AnswerHTML(lang, k[1]))] += count
	}
	var out []wrongAnswer
	for ans, count := range counts {
		out = append(out, wrongAnswer{Answer: ans, Count: count})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Answer < out[j].Answer
	})
	return out
}

// attemptView is one answer on a student's page: the question as the
// student saw it, what they answered, the right answer and when.
type attemptView struct {
	Correct       bool
	Time          string // 15:04 in the box's zone
	Set           string // the set's title, or pack / set when it is gone
	N             int    // the question's number in its set (0: gone)
	Lang          string // of the question
	Prompt        template.HTML
	Answer, Right template.HTML
	Item          string // the item's id, shown when the question is gone
	PartlyRight   int    // percent, for an answer that is partly right
	Poll          bool   // an answer to a poll: recorded, neither right nor wrong
}

type attemptDay struct {
	Date     string
	Attempts []attemptView
	Right    int
}

// handleStudentReport shows one student's answers, newest day first, each
// with its question, the answer given, the right one and the time.
func (s *Server) handleStudentReport(w http.ResponseWriter, r *http.Request, v *viewer, c school.Class) {
	lang := s.lang(r)
	st, err := s.db.Student(r.Context(), r.PathValue("student"))
	if err != nil || st.ClassID != c.ID {
		s.fail(w, r, failure.Errorf(failure.NotFound, "%s", i18n.T(lang, "student.not_in_class")))
		return
	}
	atts, err := s.db.Attempts(r.Context(), []string{st.LearnerID()}, "", "")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	zone := s.zone()
	var days []attemptDay
	for _, a := range atts {
		t := a.Time.In(zone)
		d := i18n.Date(lang, t)
		if len(days) == 0 || days[len(days)-1].Date != d {
			days = append(days, attemptDay{Date: d})
		}
		day := &days[len(days)-1]
		av := attemptView{Correct: a.Correct, Time: t.Format("15:04"), Set: a.Pack + " / " + a.Set, Item: a.Item,
			Answer: template.HTML(template.HTMLEscapeString(a.Answer))}
		if !a.Correct && a.Score > 0 {
			av.PartlyRight = int(a.Score*100 + 0.5)
		}
		if q, ok := s.questionOf(lang, a); ok {
			av.Set, av.N, av.Lang, av.Prompt = q.SetTitle, q.N, q.Lang, template.HTML(q.Prompt())
			av.Answer, av.Right = template.HTML(q.AnswerHTML(lang, a.Answer)), template.HTML(q.RightHTML(lang))
			av.Poll = !q.Item.Kind.Graded()
		}
		day.Attempts = append(day.Attempts, av)
		if a.Correct {
			day.Right++
		}
	}
	slices.Reverse(days) // the latest work first; each day's answers in the order given
	s.render(w, r, http.StatusOK, "student-report", st.Name, true, struct {
		Class   school.Class
		Student school.Student
		Days    []attemptDay
		Chart   template.HTML
		Total   int
	}{c, st, days, attemptsChart(atts), len(atts)})
}

// attemptsChart draws a student's answers as an SVG strip, oldest first: a
// tall green bar for a right answer, a short red one for a wrong one.
func attemptsChart(atts []store.Attempt) template.HTML {
	const w, h = 6, 40
	if len(atts) == 0 {
		return ""
	}
	var b strings.Builder
	width := len(atts) * w
	b.WriteString(`<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ` + strconv.Itoa(width) + ` ` + strconv.Itoa(h) + `" preserveAspectRatio="none" role="img">`)
	for i, a := range atts {
		bh, color := h/3, "#c62828"
		if a.Correct {
			bh, color = h, "#0b6e4f"
		}
		b.WriteString(`<rect x="` + strconv.Itoa(i*w) + `" y="` + strconv.Itoa(h-bh) + `" width="` + strconv.Itoa(w-1) + `" height="` + strconv.Itoa(bh) + `" fill="` + color + `"/>`)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// reportRow counts, for one assignment, the students who mastered it, in
// all and by gender ([mastered, of]).
type reportRow struct {
	Title                     string
	Total, Mastered           int
	Female, Male, Unspecified [2]int
}

// handleClassReport is a printable summary: each assignment's mastery,
// split by gender as the programme reports it.
func (s *Server) handleClassReport(w http.ResponseWriter, r *http.Request, v *viewer, c school.Class) {
	lang := s.lang(r)
	students, as, grid, err := s.classProgress(r.Context(), c, lang)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var rows []reportRow
	for j, a := range as {
		row := reportRow{Title: a.Label, Total: len(students)}
		for i, st := range students {
			done := 0
			if grid[i][j].Status == "mastered" {
				done = 1
				row.Mastered++
			}
			switch st.Gender {
			case "female":
				row.Female[0] += done
				row.Female[1]++
			case "male":
				row.Male[0] += done
				row.Male[1]++
			default:
				row.Unspecified[0] += done
				row.Unspecified[1]++
			}
		}
		rows = append(rows, row)
	}
	s.render(w, r, http.StatusOK, "report", i18n.T(lang, "report.title", c.Name), false, struct {
		Class    school.Class
		Date     string
		Students int
		Rows     []reportRow
	}{c, i18n.Date(lang, s.now()), len(students), rows})
}
