package server

import (
	"net/http"
	"strings"

	"github.com/mitstem/stembox/internal/auth"
	"github.com/mitstem/stembox/internal/i18n"
	"github.com/mitstem/stembox/internal/school"
)

// Sign-in cards: a printable sheet per class, one card a student, with
// the class code, the box's link and the student's PIN or pictures. The box
// keeps only hashes of secrets, so a card with a secret is made with a new
// one (POST): for the students who have none of the class's kind yet, or
// for everyone. GET shows the sheet without secrets (for a class that signs
// in by name, all a card needs) and the buttons that make them.

// secretKind is the kind of secret a class gives: pictures for a picture
// class, else a PIN.
func secretKind(c school.Class) string {
	if c.SignIn == school.SignInPicture {
		return school.SignInPicture
	}
	return school.SignInPIN
}

// needsSecret says whether st has no secret a class c accepts as its own:
// none at all, or one of the other kind (kept working until replaced).
func needsSecret(c school.Class, st school.Student) bool {
	return c.SignIn != school.SignInName && (!st.HasSecret || st.SecretKind != secretKind(c))
}

type signInCard struct {
	Name     string
	PIN      string   // a new PIN, or ""
	Pictures []string // a new picture password, or none
}

type cardsPage struct {
	Class   school.Class
	Link    string // the class's sign-in page, by the box's IP address
	Cards   []signInCard
	Secrets bool // the cards carry new secrets (shown once)
	Missing int  // students without a secret of the class's kind
	Error   string
}

func (s *Server) cardsView(r *http.Request, c school.Class) (cardsPage, []school.Student, error) {
	students, err := s.db.Students(r.Context(), c.ID)
	if err != nil {
		return cardsPage{}, nil, err
	}
	ip, _ := s.boxURLs(r)
	p := cardsPage{Class: c, Link: ip + "/student/" + c.Code}
	for _, st := range students {
		p.Cards = append(p.Cards, signInCard{Name: st.Name})
		if needsSecret(c, st) {
			p.Missing++
		}
	}
	return p, students, nil
}

func (s *Server) handleCards(w http.ResponseWriter, r *http.Request, v *viewer, c school.Class) {
	p, _, err := s.cardsView(r, c)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "cards", i18n.T(s.lang(r), "cards.title", c.Name), false, p)
}

// handleMakeCards gives new secrets (who=missing: to the students without
// one of the class's kind; who=all: to everyone) and shows their cards,
// once: the page is not stored, and the secrets are kept only as hashes.
func (s *Server) handleMakeCards(w http.ResponseWriter, r *http.Request, v *viewer, c school.Class) {
	lang := s.lang(r)
	p, students, err := s.cardsView(r, c)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if c.SignIn == school.SignInName {
		p.Error = i18n.T(lang, "cards.by_name")
		s.render(w, r, http.StatusUnprocessableEntity, "cards", i18n.T(lang, "cards.title", c.Name), false, p)
		return
	}
	all := r.PostForm.Get("who") == "all"
	hashes := map[string]string{}
	p.Cards, p.Secrets = nil, true
	for _, st := range students {
		if !all && !needsSecret(c, st) {
			continue
		}
		card := signInCard{Name: st.Name}
		secret := auth.NewPIN()
		card.PIN = secret
		if c.SignIn == school.SignInPicture {
			secret = auth.NewPicturePassword()
			card.PIN, card.Pictures = "", strings.Split(secret, "-")
		}
		if hashes[st.ID], err = s.hashes.Hash(r.Context(), secret); err != nil {
			s.signInBusy(w, r, err)
			return
		}
		p.Cards = append(p.Cards, card)
	}
	if len(hashes) > 0 {
		if err := s.db.SetStudentSecrets(r.Context(), v.actor(), hashes, secretKind(c)); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	for id := range hashes {
		s.students.Unlock(studentTarget(id)) // a fresh secret starts with a clean slate
	}
	p.Missing = 0
	s.log.Info("sign-in cards made", "class", c.ID, "students", len(hashes), "by", v.actor())
	s.render(w, r, http.StatusOK, "cards", i18n.T(lang, "cards.title", c.Name), false, p)
}
