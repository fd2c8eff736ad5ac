package server

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/mitstem/stembox/internal/event"
	"github.com/mitstem/stembox/internal/failure"
	"github.com/mitstem/stembox/internal/i18n"
	"github.com/mitstem/stembox/internal/learn"
)

type apiPack struct {
	ID             string     `json:"id"`
	Version        string     `json:"version"`
	Subject        string     `json:"subject"`
	Grades         []int      `json:"grades"`
	Languages      []string   `json:"languages"`
	DraftLanguages []string   `json:"draft_languages,omitempty"`
	Title          learn.Text `json:"title"`
	Lessons        int        `json:"lessons"`
	Exercises      int        `json:"exercises"`
	URL            string     `json:"url"`
}

func (s *Server) handleAPIPacks(w http.ResponseWriter, r *http.Request) {
	out := []apiPack{}
	for _, p := range s.lib.Packs() {
		m := &p.Manifest
		out = append(out, apiPack{ID: m.ID, Version: m.Version, Subject: m.Subject, Grades: m.Grades, Languages: m.Languages,
			DraftLanguages: m.DraftLanguages, Title: m.Title, Lessons: len(m.Lessons), Exercises: exerciseCount(m), URL: "/packs/" + m.ID})
	}
	writeJSON(w, http.StatusOK, map[string]any{"packs": out})
}

type apiAnswer struct {
	ID      string `json:"id"` // optional, a ULID made by the client: resending it is safe
	Pack    string `json:"pack"`
	Set     string `json:"set"`
	Item    string `json:"item"`
	Choices []int  `json:"choices"`
	Text    string `json:"text"`
}

type apiVerdict struct {
	ID       string   `json:"id"`
	Seq      int64    `json:"seq"`
	Correct  bool     `json:"correct"`
	Score    float64  `json:"score"`
	Feedback []string `json:"feedback"`
	Poll     bool     `json:"poll,omitempty"` // a poll's answer: recorded, neither right nor wrong
}

// handleAPIAnswer grades and stores one answer sent as JSON, answering only
// once it is on disk.
func (s *Server) handleAPIAnswer(w http.ResponseWriter, r *http.Request) {
	lang := s.lang(r)
	r.Body = http.MaxBytesReader(w, r.Body, maxJSONBytes)
	var req apiAnswer
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		s.failJSON(w, r, failure.Wrap(failure.Invalid, err, "malformed JSON: "+err.Error()))
		return
	}
	if req.ID != "" && !event.ValidID(req.ID) {
		s.failJSON(w, r, failure.Errorf(failure.Invalid, "id %q is not a ULID", req.ID))
		return
	}
	r.SetPathValue("pack", req.Pack)
	r.SetPathValue("set", req.Set)
	ref, err := s.exerciseSet(r)
	if err != nil {
		s.failJSON(w, r, err)
		return
	}
	it, ok := ref.set.Item(req.Item)
	if !ok {
		s.failJSON(w, r, failure.Errorf(failure.NotFound, "%s", i18n.T(lang, "error.no_exercise", req.Item)))
		return
	}
	learner := s.learner(w, r, true)
	a, ev, err := s.grade(r, ref, it, learner, learn.Response{Choices: req.Choices, Text: strings.TrimSpace(req.Text)}, req.ID)
	if msg := responseError(lang, err); msg != "" {
		s.failJSON(w, r, failure.Wrap(failure.Invalid, err, msg))
		return
	}
	if err != nil {
		s.failJSON(w, r, err)
		return
	}
	fb := a.Feedback
	if fb == nil {
		fb = []string{}
	}
	writeJSON(w, http.StatusOK, apiVerdict{ID: a.ID, Seq: ev.Seq, Correct: a.Correct, Score: a.Score, Feedback: fb, Poll: a.Kind == event.QuestionPoll})
}
