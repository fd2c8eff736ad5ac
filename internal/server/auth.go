package server

import (
	"context"
	"crypto/subtle"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/mitstem/stembox/internal/auth"
	"github.com/mitstem/stembox/internal/failure"
	"github.com/mitstem/stembox/internal/i18n"
	"github.com/mitstem/stembox/internal/school"
)

const (
	sessionCookie = "stembox_session"
	userTTL       = 12 * time.Hour
	studentTTL    = 8 * time.Hour // a school day on a shared device
)

// viewer is who is behind a request: nobody, a user (admin or teacher) or a
// student.
type viewer struct {
	Kind      string // "", "user" or "student"
	User      school.User
	Student   school.Student
	CSRF      string
	tokenHash string
}

func (v *viewer) isUser() bool    { return v.Kind == "user" }
func (v *viewer) isAdmin() bool   { return v.Kind == "user" && v.User.Role == school.RoleAdmin }
func (v *viewer) isStudent() bool { return v.Kind == "student" }

// actor is how the viewer appears in events.
func (v *viewer) actor() string {
	switch v.Kind {
	case "user":
		return "user:" + v.User.ID
	case "student":
		return v.Student.LearnerID()
	}
	return "anonymous"
}

type viewerKey struct{}

var anonymous = &viewer{}

func viewerOf(r *http.Request) *viewer {
	if v, ok := r.Context().Value(viewerKey{}).(*viewer); ok {
		return v
	}
	return anonymous
}

// withViewer loads the session of a request that carries a session cookie.
// Requests without cookies (most lesson and file reads) pay nothing.
func (s *Server) withViewer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(r.Header["Cookie"]) == 0 {
			next.ServeHTTP(w, r)
			return
		}
		c, err := r.Cookie(sessionCookie)
		if err != nil || c.Value == "" {
			next.ServeHTTP(w, r)
			return
		}
		v, err := s.loadViewer(r.Context(), c.Value)
		if err != nil {
			if failure.KindOf(err) == failure.Internal {
				s.log.Error("load session", "err", err)
			}
			next.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), viewerKey{}, v)))
	})
}

func (s *Server) loadViewer(ctx context.Context, token string) (*viewer, error) {
	th := auth.TokenHash(token)
	sess, err := s.db.SessionByToken(ctx, th)
	if err != nil {
		return nil, err
	}
	v := &viewer{Kind: sess.Kind, CSRF: sess.CSRF, tokenHash: th}
	switch sess.Kind {
	case "user":
		v.User, err = s.db.UserByID(ctx, sess.Subject)
	case "student":
		v.Student, err = s.db.Student(ctx, sess.Subject)
	default:
		err = failure.Errorf(failure.Unauthorized, "unknown session kind")
	}
	if err != nil {
		return nil, err
	}
	return v, nil
}

// startSession signs the device in as subject.
func (s *Server) startSession(w http.ResponseWriter, r *http.Request, kind, subject string, ttl time.Duration) error {
	token, csrf := auth.NewToken(), auth.NewToken()
	if c, err := r.Cookie(sessionCookie); err == nil {
		s.db.DeleteSession(r.Context(), auth.TokenHash(c.Value)) // one session a device
	}
	if err := s.db.CreateSession(r.Context(), auth.TokenHash(token), kind, subject, csrf, ttl); err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: token, Path: "/", MaxAge: int(ttl.Seconds()),
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: r.TLS != nil})
	return nil
}

func (s *Server) endSession(w http.ResponseWriter, r *http.Request) {
	if v := viewerOf(r); v.tokenHash != "" {
		if err := s.db.DeleteSession(r.Context(), v.tokenHash); err != nil {
			s.log.Error("end session", "err", err)
		}
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode})
}

// checkCSRF compares the form's token with the session's. Forms of signed-in
// pages carry it in a hidden field "csrf".
func checkCSRF(r *http.Request, v *viewer) bool {
	return v.CSRF != "" && checkToken(r.PostFormValue("csrf"), v.CSRF)
}

// checkToken compares a form's CSRF token with the session's, in constant time.
func checkToken(got, want string) bool {
	return subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

var errCSRF = failure.Errorf(failure.Unauthorized, "this form has expired: go back, reload the page and try again")

// parseForm reads a form of at most maxFormBytes (multipart forms may carry
// a roster file of up to 1 MB) and checks its CSRF token.
func (s *Server) parseForm(w http.ResponseWriter, r *http.Request, v *viewer) error {
	limit := int64(maxFormBytes)
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/") {
		limit = 1 << 20
	}
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	var err error
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/") {
		err = r.ParseMultipartForm(limit)
	} else {
		err = r.ParseForm()
	}
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return failure.Wrap(failure.TooLarge, err, i18n.T(s.lang(r), "error.too_large"))
		}
		return failure.Wrap(failure.Invalid, err, i18n.T(s.lang(r), "error.bad_form"))
	}
	if !checkCSRF(r, v) {
		return errCSRF
	}
	return nil
}

// requireUser wraps a handler for signed-in users; with admin, for admins
// only. Anonymous visitors are sent to sign in; POSTs must carry the CSRF
// token.
func (s *Server) requireUser(admin bool, h func(http.ResponseWriter, *http.Request, *viewer)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		v := viewerOf(r)
		if !v.isUser() {
			if r.Method == http.MethodGet {
				http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			s.fail(w, r, failure.Errorf(failure.Unauthorized, "%s", i18n.T(s.lang(r), "error.sign_in")))
			return
		}
		if admin && !v.isAdmin() {
			s.fail(w, r, failure.Errorf(failure.Unauthorized, "%s", i18n.T(s.lang(r), "error.admins_only")))
			return
		}
		if r.Method == http.MethodPost {
			if err := s.parseForm(w, r, v); err != nil {
				s.fail(w, r, err)
				return
			}
		}
		h(w, r, v)
	}
}

// clientAddr is the address a request came from, for rate limits.
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// signInBusy answers a sign-in whose secret could not be hashed in time
// (auth.ErrBusy): 503, and a page that says to try again in a moment.
func (s *Server) signInBusy(w http.ResponseWriter, r *http.Request, err error) {
	if !errors.Is(err, auth.ErrBusy) {
		s.fail(w, r, err)
		return
	}
	lang := s.lang(r)
	w.Header().Set("Retry-After", strconv.Itoa(busyRetrySeconds))
	s.render(w, r, http.StatusServiceUnavailable, "error", i18n.T(lang, "error.title"), false,
		errorPage{Heading: i18n.T(lang, "error.title"), Message: i18n.T(lang, "signin.busy")})
}

// busyRetrySeconds is the Retry-After of a busy sign-in.
const busyRetrySeconds = 5
