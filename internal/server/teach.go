package server

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/mitstem/stembox/internal/auth"
	"github.com/mitstem/stembox/internal/content"
	"github.com/mitstem/stembox/internal/failure"
	"github.com/mitstem/stembox/internal/gradebook"
	"github.com/mitstem/stembox/internal/i18n"
	"github.com/mitstem/stembox/internal/roster"
	"github.com/mitstem/stembox/internal/school"
)

// teachRoutes are the teachers' and admins' pages.
func (s *Server) teachRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /teach", s.requireUser(false, s.handleTeach))
	mux.HandleFunc("POST /teach/classes", s.requireUser(false, s.handleCreateClass))
	mux.HandleFunc("GET /teach/classes/{class}", s.requireClass(s.handleClass))
	mux.HandleFunc("POST /teach/classes/{class}/settings", s.requireClass(s.handleClassSettings))
	mux.HandleFunc("POST /teach/classes/{class}/students", s.requireClass(s.handleAddStudent))
	mux.HandleFunc("POST /teach/classes/{class}/roster", s.requireClass(s.handleImportRoster))
	mux.HandleFunc("GET /teach/classes/{class}/roster.csv", s.requireClass(s.handleExportRoster))
	mux.HandleFunc("POST /teach/classes/{class}/assign", s.requireClass(s.handleAssign))
	mux.HandleFunc("POST /teach/classes/{class}/unassign", s.requireClass(s.handleUnassign))
	mux.HandleFunc("POST /teach/classes/{class}/students/{student}/secret", s.requireClass(s.handleResetSecret))
	mux.HandleFunc("POST /teach/classes/{class}/students/{student}/unlock", s.requireClass(s.handleUnlockStudent))
	mux.HandleFunc("GET /teach/classes/{class}/cards", s.requireClass(s.handleCards))
	mux.HandleFunc("POST /teach/classes/{class}/cards", s.requireClass(s.handleMakeCards))
	mux.HandleFunc("GET /teach/classes/{class}/progress", s.requireClass(s.handleHeatmap))
	mux.HandleFunc("GET /teach/classes/{class}/sets/{pack}/{set}", s.requireClass(s.handleItemAnalysis))
	mux.HandleFunc("GET /teach/classes/{class}/students/{student}", s.requireClass(s.handleStudentReport))
	mux.HandleFunc("GET /teach/classes/{class}/report", s.requireClass(s.handleClassReport))
	mux.HandleFunc("GET /teach/classes/{class}/results.csv", s.requireClass(s.handleExportResults))
	mux.HandleFunc("GET /admin", s.requireUser(true, s.handleAdmin))
	mux.HandleFunc("POST /admin/teachers", s.requireUser(true, s.handleCreateTeacher))
	mux.HandleFunc("POST /admin/teachers/{user}/password", s.requireUser(true, s.handleResetPassword))
}

// requireClass wraps a handler for the teachers of the class in the path
// (and admins). A teacher of another class is told the class does not
// exist.
func (s *Server) requireClass(h func(http.ResponseWriter, *http.Request, *viewer, school.Class)) http.HandlerFunc {
	return s.requireUser(false, func(w http.ResponseWriter, r *http.Request, v *viewer) {
		c, err := s.db.Class(r.Context(), r.PathValue("class"))
		if err == nil && !v.isAdmin() {
			var ok bool
			if ok, err = s.db.Teaches(r.Context(), v.User.ID, c.ID); err == nil && !ok {
				err = failure.Errorf(failure.NotFound, "no class")
			}
		}
		if err != nil {
			if failure.KindOf(err) == failure.NotFound {
				err = failure.Errorf(failure.NotFound, "%s", i18n.T(s.lang(r), "error.no_class"))
			}
			s.fail(w, r, err)
			return
		}
		h(w, r, v, c)
	})
}

func classURL(c school.Class) string { return "/teach/classes/" + c.ID }

// formError re-shows a page with a message for a problem the user can fix;
// other errors fail the request.
func (s *Server) formError(w http.ResponseWriter, r *http.Request, err error, again func(msg string)) {
	switch failure.KindOf(err) {
	case failure.Invalid, failure.Conflict, failure.NotFound:
		again(failure.Message(err))
	default:
		s.fail(w, r, err)
	}
}

func (s *Server) handleTeach(w http.ResponseWriter, r *http.Request, v *viewer) {
	s.teachPage(w, r, v, http.StatusOK, "")
}

func (s *Server) teachPage(w http.ResponseWriter, r *http.Request, v *viewer, status int, msg string) {
	var classes []school.Class
	var err error
	if v.isAdmin() {
		classes, err = s.db.Classes(r.Context())
	} else {
		classes, err = s.db.ClassesOf(r.Context(), v.User.ID)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, status, "teach", i18n.T(s.lang(r), "teach.title"), false, struct {
		Classes []school.Class
		Error   string
	}{classes, msg})
}

func (s *Server) handleCreateClass(w http.ResponseWriter, r *http.Request, v *viewer) {
	grade, _ := strconv.Atoi(r.PostForm.Get("grade"))
	c, err := s.db.CreateClass(r.Context(), v.actor(), r.PostForm.Get("name"), grade, v.User.ID)
	if failure.KindOf(err) == failure.Invalid {
		err = failure.Wrap(failure.Invalid, err, i18n.T(s.lang(r), "teach.class_invalid"))
	}
	if err != nil {
		s.formError(w, r, err, func(msg string) { s.teachPage(w, r, v, http.StatusUnprocessableEntity, msg) })
		return
	}
	http.Redirect(w, r, classURL(c), http.StatusSeeOther)
}

// packChoice is a lesson or set a teacher can assign.
type packChoice struct {
	Value, Label string
}

type packGroup struct {
	Title   string
	Choices []packChoice
}

func (s *Server) assignable(lang string) []packGroup {
	var out []packGroup
	for _, p := range s.lib.Packs() {
		m := &p.Manifest
		cl := contentLang(lang, m.Languages)
		g := packGroup{Title: m.Title.In(cl, m.Languages[0])}
		for _, l := range m.Lessons {
			g.Choices = append(g.Choices, packChoice{Value: m.ID + "|lesson|" + l.ID, Label: i18n.T(lang, "class.lesson", l.Title.In(cl, m.Languages[0]))})
			if l.Exercises != "" {
				for _, si := range m.Sets {
					if si.ID == l.Exercises {
						g.Choices = append(g.Choices, packChoice{Value: m.ID + "|set|" + si.ID, Label: i18n.T(lang, "class.set", si.Title.In(cl, m.Languages[0]))})
					}
				}
			}
		}
		for _, si := range m.Sets { // sets of no lesson, as a studio set's pack holds
			if !slices.ContainsFunc(m.Lessons, func(l content.Lesson) bool { return l.Exercises == si.ID }) {
				g.Choices = append(g.Choices, packChoice{Value: m.ID + "|set|" + si.ID, Label: i18n.T(lang, "class.set", si.Title.In(cl, m.Languages[0]))})
			}
		}
		for _, a := range m.Apps {
			g.Choices = append(g.Choices, packChoice{Value: m.ID + "|app|" + a.ID, Label: i18n.T(lang, "class.app", a.Title.In(cl, m.Languages[0]))})
		}
		out = append(out, g)
	}
	return out
}

type classPage struct {
	Class       school.Class
	Students    []school.Student
	Assignments []assignmentView
	Packs       []packGroup
	Chosen      string // the assign form's choice made already (?what=, from the studio)
	Error       string
	Problems    []string // a refused roster's problems, one a row, under Error
	Notice      string
	NewSecret   *newSecret
	Masteries   []string
	Slowed      map[string]bool // students whose sign-in is slowed down by wrong tries
	// Keeping are the students who sign in with a secret of the other kind
	// (a PIN in a picture class): theirs works until they get a new one.
	// Missing counts them and those with no secret yet.
	Keeping []string
	Missing int
}

type newSecret struct {
	Student  string
	PIN      string
	Pictures []string
}

func (s *Server) handleClass(w http.ResponseWriter, r *http.Request, v *viewer, c school.Class) {
	s.classPage(w, r, v, c, http.StatusOK, classPage{Chosen: r.URL.Query().Get("what")})
}

func (s *Server) classPage(w http.ResponseWriter, r *http.Request, v *viewer, c school.Class, status int, page classPage) {
	lang := s.lang(r)
	var err error
	page.Class = c
	if page.Students, err = s.db.Students(r.Context(), c.ID); err != nil {
		s.fail(w, r, err)
		return
	}
	if page.Assignments, err = s.resolveAssignments(r.Context(), c.ID, lang); err != nil {
		s.fail(w, r, err)
		return
	}
	page.Packs = s.assignable(lang)
	page.Slowed = map[string]bool{}
	for _, st := range page.Students {
		if s.students.Slowed(studentTarget(st.ID)) {
			page.Slowed[st.ID] = true
		}
		if needsSecret(c, st) {
			page.Missing++
			if st.HasSecret {
				page.Keeping = append(page.Keeping, st.Name)
			}
		}
	}
	page.Masteries = []string{"last:4/5", "last:3/5", "last:8/10", "streak:3", "streak:5", "all"}
	s.render(w, r, status, "class", c.Name, false, page)
}

func (s *Server) handleClassSettings(w http.ResponseWriter, r *http.Request, v *viewer, c school.Class) {
	if err := s.db.UpdateClass(r.Context(), v.actor(), c.ID, r.PostForm.Get("sign_in"), r.PostForm.Get("mastery")); err != nil {
		s.formError(w, r, err, func(msg string) { s.classPage(w, r, v, c, http.StatusUnprocessableEntity, classPage{Error: msg}) })
		return
	}
	http.Redirect(w, r, classURL(c), http.StatusSeeOther)
}

func (s *Server) handleAddStudent(w http.ResponseWriter, r *http.Request, v *viewer, c school.Class) {
	f := r.PostForm
	csv := "name,gender,birth_year\n" + csvLine(f.Get("name"), f.Get("gender"), f.Get("birth_year"))
	s.importRoster(w, r, v, c, strings.NewReader(csv))
}

func csvLine(fields ...string) string {
	var b strings.Builder
	for i, f := range fields {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`"` + strings.ReplaceAll(f, `"`, `""`) + `"`)
	}
	return b.String() + "\n"
}

// handleImportRoster adds the students of a CSV file (or pasted text), all
// or none: every problem is listed with its line, and nothing is added.
func (s *Server) handleImportRoster(w http.ResponseWriter, r *http.Request, v *viewer, c school.Class) {
	var src io.Reader = strings.NewReader(r.PostForm.Get("csv"))
	if f, _, err := r.FormFile("file"); err == nil {
		defer f.Close()
		src = f
	}
	s.importRoster(w, r, v, c, src)
}

func (s *Server) importRoster(w http.ResponseWriter, r *http.Request, v *viewer, c school.Class, src io.Reader) {
	lang := s.lang(r)
	added, err := gradebook.ImportRoster(r.Context(), s.db, s.hashes, v.actor(), c, src, s.now().Year())
	if ps := gradebook.Problems(err); ps != nil {
		s.classPage(w, r, v, c, http.StatusUnprocessableEntity, classPage{Error: i18n.T(lang, "roster.refused_rows"), Problems: ps.Lines(lang)})
		return
	}
	if errors.Is(err, auth.ErrBusy) {
		s.signInBusy(w, r, err)
		return
	}
	if err != nil {
		s.formError(w, r, err, func(msg string) {
			s.classPage(w, r, v, c, http.StatusUnprocessableEntity, classPage{Error: i18n.T(lang, "roster.refused", msg)})
		})
		return
	}
	s.classPage(w, r, v, c, http.StatusOK, classPage{Notice: i18n.N(lang, "roster.added", len(added))})
}

func (s *Server) handleExportRoster(w http.ResponseWriter, r *http.Request, v *viewer, c school.Class) {
	students, err := s.db.Students(r.Context(), c.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	rows := make([]roster.Row, len(students))
	for i, st := range students {
		rows[i] = roster.Row{Name: st.Name, Gender: st.Gender, BirthYear: st.BirthYear, ExternalID: st.ExternalID}
	}
	var buf bytes.Buffer
	roster.Write(&buf, rows)
	writeCSV(w, "roster-"+c.Code+".csv", buf.Bytes())
}

func writeCSV(w http.ResponseWriter, name string, data []byte) {
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	w.Header().Set("Cache-Control", "no-store")
	w.Write([]byte("\ufeff")) // so spreadsheets read Cyrillic as UTF-8
	w.Write(data)
}

func (s *Server) handleAssign(w http.ResponseWriter, r *http.Request, v *viewer, c school.Class) {
	parts := strings.SplitN(r.PostForm.Get("what"), "|", 3)
	if len(parts) != 3 {
		s.classPage(w, r, v, c, http.StatusUnprocessableEntity, classPage{Error: i18n.T(s.lang(r), "class.choose")})
		return
	}
	if _, ok := s.lib.Pack(parts[0]); !ok {
		s.classPage(w, r, v, c, http.StatusUnprocessableEntity, classPage{Error: i18n.T(s.lang(r), "error.no_pack", parts[0])})
		return
	}
	if err := s.db.Assign(r.Context(), v.actor(), c.ID, parts[0], parts[1], parts[2]); err != nil {
		s.formError(w, r, err, func(msg string) { s.classPage(w, r, v, c, http.StatusUnprocessableEntity, classPage{Error: msg}) })
		return
	}
	http.Redirect(w, r, classURL(c)+"#assignments", http.StatusSeeOther)
}

func (s *Server) handleUnassign(w http.ResponseWriter, r *http.Request, v *viewer, c school.Class) {
	if err := s.db.Unassign(r.Context(), v.actor(), c.ID, r.PostForm.Get("assignment")); err != nil {
		s.formError(w, r, err, func(msg string) { s.classPage(w, r, v, c, http.StatusUnprocessableEntity, classPage{Error: msg}) })
		return
	}
	http.Redirect(w, r, classURL(c)+"#assignments", http.StatusSeeOther)
}

// handleResetSecret gives a student a new PIN or picture password, shown to
// the teacher once (only its hash is kept).
func (s *Server) handleResetSecret(w http.ResponseWriter, r *http.Request, v *viewer, c school.Class) {
	st, err := s.db.Student(r.Context(), r.PathValue("student"))
	if err != nil || st.ClassID != c.ID {
		s.fail(w, r, failure.Errorf(failure.NotFound, "%s", i18n.T(s.lang(r), "student.not_in_class")))
		return
	}
	ns := &newSecret{Student: st.Name}
	secret := auth.NewPIN()
	ns.PIN = secret
	if c.SignIn == school.SignInPicture {
		secret = auth.NewPicturePassword()
		ns.PIN, ns.Pictures = "", strings.Split(secret, "-")
	}
	hash, err := s.hashes.Hash(r.Context(), secret)
	if err != nil {
		s.signInBusy(w, r, err)
		return
	}
	if err := s.db.SetStudentSecrets(r.Context(), v.actor(), map[string]string{st.ID: hash}, secretKind(c)); err != nil {
		s.fail(w, r, err)
		return
	}
	s.students.Unlock(studentTarget(st.ID)) // a fresh secret starts with a clean slate
	s.classPage(w, r, v, c, http.StatusOK, classPage{NewSecret: ns})
}

// handleUnlockStudent lets a student whose sign-in was slowed down by
// wrong PINs or pictures (theirs or anyone's) try again at once.
func (s *Server) handleUnlockStudent(w http.ResponseWriter, r *http.Request, v *viewer, c school.Class) {
	st, err := s.db.Student(r.Context(), r.PathValue("student"))
	if err != nil || st.ClassID != c.ID {
		s.fail(w, r, failure.Errorf(failure.NotFound, "%s", i18n.T(s.lang(r), "student.not_in_class")))
		return
	}
	s.students.Unlock(studentTarget(st.ID))
	s.log.Info("student let in again", "student", st.ID, "by", v.actor())
	s.classPage(w, r, v, c, http.StatusOK, classPage{Notice: i18n.T(s.lang(r), "class.unlocked", st.Name)})
}

func (s *Server) handleAdmin(w http.ResponseWriter, r *http.Request, v *viewer) {
	s.adminPage(w, r, v, http.StatusOK, "", "")
}

func (s *Server) adminPage(w http.ResponseWriter, r *http.Request, v *viewer, status int, msg, notice string) {
	users, err := s.db.Users(r.Context(), "")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	classes, err := s.db.Classes(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var problems []string
	for id, p := range s.lib.Problems() {
		problems = append(problems, fmt.Sprintf("%s: %v", id, p))
	}
	s.render(w, r, status, "admin", i18n.T(s.lang(r), "admin.title"), false, struct {
		Users         []school.User
		Classes       []school.Class
		Packs         int
		Problems      []string
		Error, Notice string
	}{users, classes, len(s.lib.Packs()), problems, msg, notice})
}

func (s *Server) handleCreateTeacher(w http.ResponseWriter, r *http.Request, v *viewer) {
	lang := s.lang(r)
	pw := r.PostForm.Get("password")
	if err := auth.CheckPasswordStrength(pw); err != nil {
		s.adminPage(w, r, v, http.StatusUnprocessableEntity, i18n.T(lang, "password.short", auth.MinPasswordLength), "")
		return
	}
	role := school.RoleTeacher
	if r.PostForm.Get("role") == school.RoleAdmin {
		role = school.RoleAdmin
	}
	u, err := s.db.CreateUser(r.Context(), v.actor(), role, r.PostForm.Get("username"), r.PostForm.Get("name"), auth.Hash(pw))
	if err != nil {
		s.formError(w, r, accountError(lang, r.PostForm.Get("username"), err), func(msg string) { s.adminPage(w, r, v, http.StatusUnprocessableEntity, msg, "") })
		return
	}
	s.adminPage(w, r, v, http.StatusOK, "", i18n.T(lang, "admin.created", u.Username))
}

func (s *Server) handleResetPassword(w http.ResponseWriter, r *http.Request, v *viewer) {
	lang := s.lang(r)
	pw := r.PostForm.Get("password")
	if err := auth.CheckPasswordStrength(pw); err != nil {
		s.adminPage(w, r, v, http.StatusUnprocessableEntity, i18n.T(lang, "password.short", auth.MinPasswordLength), "")
		return
	}
	u, err := s.db.UserByID(r.Context(), r.PathValue("user"))
	if err == nil {
		err = s.db.SetPassword(r.Context(), u.ID, auth.Hash(pw))
	}
	if err != nil {
		s.formError(w, r, err, func(msg string) { s.adminPage(w, r, v, http.StatusUnprocessableEntity, msg, "") })
		return
	}
	s.accounts.Unlock("user:" + strings.ToLower(u.Username))
	s.adminPage(w, r, v, http.StatusOK, "", i18n.T(lang, "admin.password_set", u.Username))
}

// accountError says in lang what is wrong with a new account's username:
// the store's own words are English.
func accountError(lang, username string, err error) error {
	switch failure.KindOf(err) {
	case failure.Conflict:
		return failure.Wrap(failure.Conflict, err, i18n.T(lang, "account.taken", strings.TrimSpace(username)))
	case failure.Invalid:
		return failure.Wrap(failure.Invalid, err, i18n.T(lang, "account.bad_username"))
	}
	return err
}
