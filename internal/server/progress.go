package server

import (
	"context"
	"fmt"

	"github.com/mitstem/stembox/internal/i18n"
	"github.com/mitstem/stembox/internal/learn"
	"github.com/mitstem/stembox/internal/school"
	"github.com/mitstem/stembox/internal/store"
)

// assignmentView is an assignment resolved against the installed packs.
type assignmentView struct {
	store.Assignment
	Title   string
	Label   string // "Lesson: …" or "Exercises: …", to tell a lesson from its set
	Lang    string
	URL     string
	Items   []string // item ids, for a set: those that are graded (not polls), for mastery
	Missing bool     // its pack (or lesson, set) is no longer installed
}

func (s *Server) resolveAssignments(ctx context.Context, classID, lang string) ([]assignmentView, error) {
	as, err := s.db.Assignments(ctx, classID)
	if err != nil {
		return nil, err
	}
	out := make([]assignmentView, 0, len(as))
	for _, a := range as {
		v := assignmentView{Assignment: a, Title: a.Pack + " / " + a.Ref, Missing: true}
		if p, ok := s.lib.Pack(a.Pack); ok {
			m := &p.Manifest
			cl := contentLang(lang, m.Languages)
			v.Lang = cl
			switch a.Kind {
			case "lesson":
				if l, _, ok := m.Lesson(a.Ref); ok {
					v.Title, v.URL, v.Missing = l.Title.In(cl, m.Languages[0]), lessonURL(m.ID, l.ID), false
				}
			case "app":
				if app, ok := m.App(a.Ref); ok {
					v.Title, v.URL, v.Missing = app.Title.In(cl, m.Languages[0]), appURL(m.ID, app.ID), false
				}
			case "set":
				if set, ok := p.Sets[a.Ref]; ok {
					v.Title, v.URL, v.Missing = set.Title.In(cl, m.Languages[0]), setURL(m.ID, set.ID), false
					for _, it := range set.Items {
						if it.Kind.Graded() {
							v.Items = append(v.Items, it.ID)
						}
					}
				}
			}
		}
		v.Label = i18n.T(lang, "class."+a.Kind, v.Title)
		out = append(out, v)
	}
	return out, nil
}

// cell is one learner's progress on one assignment.
type cell struct {
	Status  string // "new", "started", "mastered"
	Percent int    // of the way to mastery (sets), of the best score (apps)
	Label   string // the status in words
	Score   string // what was done: "3/6" right of answered (sets), "33%" best score (apps)
	Help    bool   // struggling (learn.NeedsHelp): a set only
	URL     string
}

// progressGrid computes, for each student and assignment, the status under
// the class's mastery rule: one query a set and a pack, not one a cell.
func (s *Server) progressGrid(ctx context.Context, class school.Class, students []school.Student, as []assignmentView, lang string) ([][]cell, error) {
	rule, err := learn.ParseMasteryRule(class.Mastery)
	if err != nil {
		rule = learn.DefaultMastery
	}
	learners := school.LearnerIDs(students)
	grid := make([][]cell, len(students))
	for i := range grid {
		grid[i] = make([]cell, len(as))
	}
	lessons := map[string]map[string]map[string]bool{}           // pack → learner → lesson
	apps := map[string]map[string]map[string]store.AppProgress{} // pack → learner → app
	for j, a := range as {
		switch a.Kind {
		case "app":
			got, ok := apps[a.Pack]
			if !ok {
				if got, err = s.db.AppProgress(ctx, learners, a.Pack); err != nil {
					return nil, err
				}
				apps[a.Pack] = got
			}
			for i, l := range learners {
				grid[i][j] = appCell(lang, got[l][a.Ref])
			}
		case "lesson":
			done, ok := lessons[a.Pack]
			if !ok {
				if done, err = s.db.LessonsCompleted(ctx, learners, a.Pack); err != nil {
					return nil, err
				}
				lessons[a.Pack] = done
			}
			for i, l := range learners {
				c := cell{Status: "new", Label: i18n.T(lang, "progress.not_read")}
				if done[l][a.Ref] {
					c = cell{Status: "mastered", Percent: 100, Label: i18n.T(lang, "progress.read")}
				}
				grid[i][j] = c
			}
		case "set":
			atts, err := s.db.Attempts(ctx, learners, a.Pack, a.Ref)
			if err != nil {
				return nil, err
			}
			graded := make(map[string]bool, len(a.Items))
			for _, id := range a.Items {
				graded[id] = true
			}
			by := map[string][]learn.Result{}
			for _, at := range atts {
				if graded[at.Item] { // polls count for no mastery
					by[at.Learner] = append(by[at.Learner], learn.Result{Item: at.Item, Correct: at.Correct})
				}
			}
			for i, l := range learners {
				grid[i][j] = setCell(lang, rule, by[l], a.Items)
			}
		}
	}
	return grid, nil
}

// classProgress loads a class's students and assignments and their grid.
func (s *Server) classProgress(ctx context.Context, c school.Class, lang string) ([]school.Student, []assignmentView, [][]cell, error) {
	students, err := s.db.Students(ctx, c.ID)
	if err != nil {
		return nil, nil, nil, err
	}
	as, err := s.resolveAssignments(ctx, c.ID, lang)
	if err != nil {
		return nil, nil, nil, err
	}
	grid, err := s.progressGrid(ctx, c, students, as, lang)
	return students, as, grid, err
}

// setCell is a learner's progress on a set: the status under the class's
// mastery rule, and apart from it what was done, right of answered, which
// also tells who needs help.
func setCell(lang string, rule learn.MasteryRule, results []learn.Result, items []string) cell {
	status, frac := rule.Mastery(results, items)
	t := learn.TallyOf(results)
	c := cell{Percent: int(frac*100 + 0.5), Help: learn.NeedsHelp(t, status)}
	if t.Attempts > 0 {
		c.Score = fmt.Sprintf("%d/%d", t.Right, t.Attempts)
	}
	switch status {
	case learn.NotStarted:
		c.Status, c.Label = "new", i18n.T(lang, "progress.not_started")
	case learn.Started:
		c.Status, c.Label = "started", i18n.T(lang, "progress.started")
	case learn.Mastered:
		c.Status, c.Label = "mastered", i18n.T(lang, "progress.mastered")
	}
	return c
}

// appCell is a learner's progress on an app: mastered once a result says
// it was completed with at least learn.AppMastered of its score.
func appCell(lang string, p store.AppProgress) cell {
	c := cell{Percent: int(p.Best*100 + 0.5)}
	switch learn.AppStatus(p.Results, p.Completed, p.Best) {
	case learn.NotStarted:
		c.Status, c.Label = "new", i18n.T(lang, "progress.not_started")
	case learn.Started:
		c.Status, c.Label, c.Score = "started", i18n.T(lang, "progress.started"), fmt.Sprintf("%d%%", c.Percent)
	case learn.Mastered:
		c.Status, c.Label, c.Score = "mastered", i18n.T(lang, "progress.mastered"), fmt.Sprintf("%d%%", c.Percent)
	}
	return c
}
