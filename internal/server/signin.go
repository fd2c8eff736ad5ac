package server

import (
	"math"
	"net/http"
	"strings"

	"github.com/mitstem/stembox/internal/auth"
	"github.com/mitstem/stembox/internal/failure"
	"github.com/mitstem/stembox/internal/i18n"
	"github.com/mitstem/stembox/internal/redirect"
	"github.com/mitstem/stembox/internal/school"
)

// accountRoutes are signing in and out, first-run setup, and "my page".
func (s *Server) accountRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /login", s.handleLoginPage)
	mux.HandleFunc("POST /login", s.handleLogin)
	mux.HandleFunc("POST /logout", s.handleLogout)
	mux.HandleFunc("GET /setup", s.handleSetupPage)
	mux.HandleFunc("POST /setup", s.handleSetup)
	mux.HandleFunc("GET /me", s.handleMe)
	mux.HandleFunc("GET /student", s.handleStudentClasses)
	mux.HandleFunc("GET /student/{code}", s.handleStudentNames)
	mux.HandleFunc("POST /student/{code}", s.handleStudentSignIn)
}

type loginPage struct {
	Next, Username, Error string
	NeedsSetup            bool
}

func (s *Server) handleLoginPage(w http.ResponseWriter, r *http.Request) {
	has, err := s.db.HasAdmin(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "login", i18n.T(s.lang(r), "login.title"), false, loginPage{Next: r.URL.Query().Get("next"), NeedsSetup: !has})
}

func waitMessage(lang string, d float64) string {
	return i18n.T(lang, "login.wait", int(math.Ceil(d)))
}

func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, failure.Wrap(failure.Invalid, err, i18n.T(s.lang(r), "error.bad_form")))
		return
	}
	lang := s.lang(r)
	username := strings.TrimSpace(r.PostForm.Get("username"))
	page := loginPage{Next: r.PostForm.Get("next"), Username: username}
	// The attempt is reserved before the password is hashed: a burst of
	// guesses counts as what it is (auth.Limiter).
	attempt, wait := s.accounts.Begin(clientAddr(r), "user:"+strings.ToLower(username))
	if wait > 0 {
		page.Error = waitMessage(lang, wait.Seconds())
		s.render(w, r, tooMany(w, wait), "login", i18n.T(lang, "login.title"), false, page)
		return
	}
	defer attempt.Cancel()
	u, err := s.db.UserByUsername(r.Context(), username)
	if err != nil && failure.KindOf(err) != failure.NotFound {
		s.fail(w, r, err)
		return
	}
	// Hash even for an unknown user, so timing does not tell which
	// usernames exist.
	hash := u.PasswordHash
	if err != nil {
		hash = dummyHash
	}
	ok, herr := s.hashes.Verify(r.Context(), hash, r.PostForm.Get("password"))
	if herr != nil {
		s.signInBusy(w, r, herr)
		return
	}
	if !ok || err != nil {
		attempt.Fail()
		page.Error = i18n.T(lang, "login.wrong")
		s.render(w, r, http.StatusUnauthorized, "login", i18n.T(lang, "login.title"), false, page)
		return
	}
	attempt.Succeed()
	if err := s.startSession(w, r, "user", u.ID, userTTL); err != nil {
		s.fail(w, r, err)
		return
	}
	home := "/teach"
	if u.Role == school.RoleAdmin {
		home = "/admin"
	}
	http.Redirect(w, r, redirect.Local(page.Next, home), http.StatusSeeOther)
}

var dummyHash = auth.Hash("stembox: no such user")

// studentTarget is a student's key in the limiter.
func studentTarget(id string) string { return "student:" + id }

func (s *Server) handleLogout(w http.ResponseWriter, r *http.Request) {
	v := viewerOf(r)
	if v.Kind != "" {
		if err := s.parseForm(w, r, v); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	s.endSession(w, r)
	next := "/"
	if v.isStudent() {
		// "Not me?" on a shared device: the next student taps their name.
		next = "/student"
		if c, err := s.db.Class(r.Context(), v.Student.ClassID); err == nil {
			next = "/student/" + c.Code
		}
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

type setupPage struct {
	Username, Name, Error string
}

// The setup page creates the first admin; it exists only until one does.
func (s *Server) handleSetupPage(w http.ResponseWriter, r *http.Request) {
	if has, err := s.db.HasAdmin(r.Context()); err != nil || has {
		s.fail(w, r, failure.Errorf(failure.NotFound, "%s", i18n.T(s.lang(r), "error.no_page")))
		return
	}
	s.render(w, r, http.StatusOK, "setup", i18n.T(s.lang(r), "setup.title"), false, setupPage{})
}

func (s *Server) handleSetup(w http.ResponseWriter, r *http.Request) {
	lang := s.lang(r)
	if has, err := s.db.HasAdmin(r.Context()); err != nil || has {
		s.fail(w, r, failure.Errorf(failure.NotFound, "%s", i18n.T(lang, "error.no_page")))
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, failure.Wrap(failure.Invalid, err, i18n.T(lang, "error.bad_form")))
		return
	}
	page := setupPage{Username: r.PostForm.Get("username"), Name: r.PostForm.Get("name")}
	pw := r.PostForm.Get("password")
	switch {
	case auth.CheckPasswordStrength(pw) != nil:
		page.Error = i18n.T(lang, "password.short", auth.MinPasswordLength)
	case pw != r.PostForm.Get("password2"):
		page.Error = i18n.T(lang, "password.mismatch")
	}
	if page.Error == "" {
		u, err := s.db.CreateUser(r.Context(), "", school.RoleAdmin, page.Username, page.Name, auth.Hash(pw))
		if err == nil {
			if err := s.startSession(w, r, "user", u.ID, userTTL); err != nil {
				s.fail(w, r, err)
				return
			}
			http.Redirect(w, r, "/admin", http.StatusSeeOther)
			return
		}
		if failure.KindOf(err) == failure.Internal {
			s.fail(w, r, err)
			return
		}
		page.Error = failure.Message(accountError(lang, page.Username, err))
	}
	s.render(w, r, http.StatusUnprocessableEntity, "setup", i18n.T(lang, "setup.title"), false, page)
}

// handleMe sends each viewer to their own page.
func (s *Server) handleMe(w http.ResponseWriter, r *http.Request) {
	v := viewerOf(r)
	switch {
	case v.isStudent():
		s.studentHome(w, r, v)
	case v.isAdmin():
		http.Redirect(w, r, "/admin", http.StatusSeeOther)
	case v.isUser():
		http.Redirect(w, r, "/teach", http.StatusSeeOther)
	default:
		http.Redirect(w, r, "/student", http.StatusSeeOther)
	}
}

func (s *Server) handleStudentClasses(w http.ResponseWriter, r *http.Request) {
	if code := strings.TrimSpace(r.URL.Query().Get("code")); code != "" {
		c, err := s.db.ClassByCode(r.Context(), code)
		if err != nil {
			if failure.KindOf(err) == failure.NotFound {
				err = failure.Errorf(failure.NotFound, "%s", i18n.T(s.lang(r), "student.no_code", code))
			}
			s.fail(w, r, err)
			return
		}
		http.Redirect(w, r, "/student/"+c.Code, http.StatusSeeOther)
		return
	}
	classes, err := s.db.Classes(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "student-classes", i18n.T(s.lang(r), "student.title"), false, struct{ Classes []school.Class }{classes})
}

type studentSignInPage struct {
	Class    school.Class
	Students []school.Student
	Chosen   *school.Student
	Ask      string // what Chosen signs in with: school.SignInPIN or SignInPicture
	Pictures []string
	Error    string
}

// askFor is what a student of c signs in with: the kind of secret they
// were given, which stays theirs when the class moves from PINs to
// pictures (or back) until the teacher gives them a new one; the class's
// mode for one who has none yet.
func askFor(c school.Class, st school.Student) string {
	if c.SignIn != school.SignInName && st.HasSecret && st.SecretKind != "" {
		return st.SecretKind
	}
	return c.SignIn
}

func (s *Server) studentClass(r *http.Request) (school.Class, error) {
	c, err := s.db.ClassByCode(r.Context(), r.PathValue("code"))
	if failure.KindOf(err) == failure.NotFound {
		err = failure.Errorf(failure.NotFound, "%s", i18n.T(s.lang(r), "student.no_code", r.PathValue("code")))
	}
	return c, err
}

// handleStudentNames shows a class's first names to tap. Nothing else about
// the students is shown.
func (s *Server) handleStudentNames(w http.ResponseWriter, r *http.Request) {
	c, err := s.studentClass(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	students, err := s.db.Students(r.Context(), c.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "student-signin", c.Name, false, studentSignInPage{Class: c, Students: students, Pictures: auth.Pictures})
}

func (s *Server) handleStudentSignIn(w http.ResponseWriter, r *http.Request) {
	lang := s.lang(r)
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, failure.Wrap(failure.Invalid, err, i18n.T(lang, "error.bad_form")))
		return
	}
	c, err := s.studentClass(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	st, err := s.db.Student(r.Context(), r.PostForm.Get("student"))
	if err != nil || st.ClassID != c.ID {
		s.fail(w, r, failure.Errorf(failure.NotFound, "%s", i18n.T(lang, "student.not_in_class")))
		return
	}
	page := studentSignInPage{Class: c, Chosen: &st, Pictures: auth.Pictures, Ask: askFor(c, st)}
	secret := r.PostForm.Get("pin")
	if page.Ask == school.SignInPicture {
		secret = ""
		if a, b := r.PostForm.Get("picture1"), r.PostForm.Get("picture2"); a != "" || b != "" {
			secret = a + "-" + b
		}
	}
	if c.SignIn != school.SignInName {
		if !st.HasSecret {
			page.Error = i18n.T(lang, "student.no_secret")
			s.render(w, r, http.StatusForbidden, "student-signin", c.Name, false, page)
			return
		}
		if secret == "" { // the name was tapped: ask for the PIN or pictures
			s.render(w, r, http.StatusOK, "student-signin", c.Name, false, page)
			return
		}
		attempt, wait := s.students.Begin(clientAddr(r), studentTarget(st.ID))
		if wait > 0 {
			page.Error = waitMessage(lang, wait.Seconds())
			s.render(w, r, tooMany(w, wait), "student-signin", c.Name, false, page)
			return
		}
		defer attempt.Cancel()
		ok, err := s.hashes.Verify(r.Context(), st.SecretHash, secret)
		if err != nil {
			s.signInBusy(w, r, err)
			return
		}
		if !ok {
			attempt.Fail()
			page.Error = i18n.T(lang, "student.wrong_"+page.Ask)
			s.render(w, r, http.StatusUnauthorized, "student-signin", c.Name, false, page)
			return
		}
		attempt.Succeed()
	}
	if err := s.startSession(w, r, "student", st.ID, studentTTL); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/me", http.StatusSeeOther)
}
