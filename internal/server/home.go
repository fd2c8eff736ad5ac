package server

import (
	"net/http"

	"github.com/mitstem/stembox/internal/failure"
	"github.com/mitstem/stembox/internal/i18n"
	"github.com/mitstem/stembox/internal/school"
)

type homeRow struct {
	assignmentView
	Cell cell
}

// studentHome shows a student their assigned work, how far they are, and
// what to do next.
func (s *Server) studentHome(w http.ResponseWriter, r *http.Request, v *viewer) {
	lang := s.lang(r)
	class, err := s.db.Class(r.Context(), v.Student.ClassID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	as, err := s.resolveAssignments(r.Context(), class.ID, lang)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	grid, err := s.progressGrid(r.Context(), class, []school.Student{v.Student}, as, lang)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	data := struct {
		Name, ClassName, ClassCode, CSRF string
		Rows                             []homeRow
		Next                             *homeRow
		Done                             int
	}{Name: v.Student.Name, ClassName: class.Name, ClassCode: class.Code, CSRF: v.CSRF}
	for j, a := range as {
		if a.Missing {
			continue
		}
		row := homeRow{assignmentView: a, Cell: grid[0][j]}
		data.Rows = append(data.Rows, row)
		if row.Cell.Status == "mastered" {
			data.Done++
		} else if data.Next == nil {
			data.Next = &data.Rows[len(data.Rows)-1]
		}
	}
	s.render(w, r, http.StatusOK, "home", i18n.T(lang, "home.title", v.Student.Name), false, data)
}

// handleLessonDone records that the learner finished reading a lesson, then
// goes on to its exercises or the next lesson.
func (s *Server) handleLessonDone(w http.ResponseWriter, r *http.Request) {
	p, err := s.pack(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	m := &p.Manifest
	l, i, ok := m.Lesson(r.PathValue("lesson"))
	if !ok {
		s.fail(w, r, failure.Errorf(failure.NotFound, "%s", i18n.T(s.lang(r), "error.no_lesson", r.PathValue("lesson"))))
		return
	}
	if err := s.db.CompleteLesson(r.Context(), s.learner(w, r, true), m.ID, m.Version, l.ID); err != nil {
		s.fail(w, r, err)
		return
	}
	next := "/packs/" + m.ID
	switch {
	case l.Exercises != "":
		next = setURL(m.ID, l.Exercises)
	case i+1 < len(m.Lessons):
		next = lessonURL(m.ID, m.Lessons[i+1].ID)
	}
	if viewerOf(r).isStudent() {
		next = "/me"
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}
