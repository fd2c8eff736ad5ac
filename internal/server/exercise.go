package server

import (
	"errors"
	"fmt"
	"hash/fnv"
	"html/template"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/mitstem/stembox/internal/content"
	"github.com/mitstem/stembox/internal/event"
	"github.com/mitstem/stembox/internal/failure"
	"github.com/mitstem/stembox/internal/i18n"
	"github.com/mitstem/stembox/internal/learn"
	"github.com/mitstem/stembox/internal/store"
)

const learnerCookie = "stembox_learner"

// learner returns the id of the request's learner: the signed-in student, or
// else a guest id kept in a cookie (with create, a device without one gets
// one), so reading and practising need no account.
func (s *Server) learner(w http.ResponseWriter, r *http.Request, create bool) string {
	if v := viewerOf(r); v.isStudent() {
		return v.Student.LearnerID()
	}
	if c, err := r.Cookie(learnerCookie); err == nil && event.ValidID(c.Value) {
		return "guest:" + c.Value
	}
	if !create {
		return ""
	}
	id := s.db.NewID()
	http.SetCookie(w, &http.Cookie{Name: learnerCookie, Value: id, Path: "/", MaxAge: 5 * 365 * 24 * 3600, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	return "guest:" + id
}

// exerciseRef is an exercise set of an installed pack, as a request names it.
type exerciseRef struct {
	pack *content.Pack
	info content.SetInfo
	set  *learn.Set
	cl   string // the language the set is shown in
}

func (s *Server) exerciseSet(r *http.Request) (exerciseRef, error) {
	p, err := s.pack(r)
	if err != nil {
		return exerciseRef{}, err
	}
	id := r.PathValue("set")
	for _, si := range p.Manifest.Sets {
		if si.ID == id {
			return exerciseRef{pack: p, info: si, set: p.Sets[id], cl: contentLang(s.lang(r), si.Languages)}, nil
		}
	}
	return exerciseRef{}, failure.Errorf(failure.NotFound, "%s", i18n.T(s.lang(r), "error.no_set", id))
}

// item returns the n-th (1-based) item named by the request.
func (s *Server) item(r *http.Request) (exerciseRef, int, *learn.Item, error) {
	ref, err := s.exerciseSet(r)
	if err != nil {
		return ref, 0, nil, err
	}
	n, err := strconv.Atoi(r.PathValue("n"))
	if err != nil || n < 1 || n > len(ref.set.Items) {
		return ref, 0, nil, failure.Errorf(failure.NotFound, "%s", i18n.T(s.lang(r), "error.no_exercise", r.PathValue("n")))
	}
	return ref, n, &ref.set.Items[n-1], nil
}

func (s *Server) handleSet(w http.ResponseWriter, r *http.Request) {
	ref, err := s.exerciseSet(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	lang := s.lang(r)
	m := &ref.pack.Manifest
	progress := map[string]store.Progress{}
	if learner := s.learner(w, r, false); learner != "" {
		if progress, err = s.db.SetProgress(r.Context(), learner, m.ID, ref.info.ID); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	type row struct{ URL, Label, Status, StatusText string }
	data := struct {
		PackID, PackTitle, ContentLang, Title, Summary, StartURL, StartLabel string
		Notices                                                              []string
		Items                                                                []row
	}{
		PackID: m.ID, PackTitle: m.Title.In(contentLang(lang, m.Languages), m.Languages[0]), ContentLang: ref.cl,
		Title: ref.info.Title.In(ref.cl, m.Languages[0]), Notices: notices(lang, ref.cl, m),
		StartLabel: i18n.T(lang, "set.start"),
	}
	done, start := 0, 0
	for i, it := range ref.set.Items {
		rw := row{URL: fmt.Sprintf("%s/%d", setURL(m.ID, ref.info.ID), i+1), Label: i18n.T(lang, "set.question", i+1), Status: "new", StatusText: i18n.T(lang, "set.not_tried")}
		if p, ok := progress[it.ID]; ok {
			if p.LastCorrect || !it.Kind.Graded() { // a poll is done once answered
				rw.Status, rw.StatusText = "done", i18n.T(lang, "set.correct")
				done++
			} else {
				rw.Status, rw.StatusText = "tried", i18n.T(lang, "set.tried", p.Attempts)
			}
		}
		if rw.Status != "done" && start == 0 {
			start = i + 1
		}
		data.Items = append(data.Items, rw)
	}
	if start == 0 {
		start = 1
		data.StartLabel = i18n.T(lang, "set.again")
	} else if done > 0 {
		data.StartLabel = i18n.T(lang, "set.continue")
	}
	data.StartURL = fmt.Sprintf("%s/%d", setURL(m.ID, ref.info.ID), start)
	data.Summary = i18n.T(lang, "set.summary", done, len(ref.set.Items))
	s.render(w, r, http.StatusOK, "set", data.Title, false, data)
}

type choiceView struct {
	Index   int
	Text    template.HTML
	Checked bool
}

type verdictView struct {
	Correct  bool
	Headline string
	Feedback []template.HTML
	Solution template.HTML
}

type exerciseView struct {
	PackID, PackTitle, ContentLang, SetURL, SetTitle, URL, Position string
	Notices                                                         []string
	AnswerID, Kind, Unit, Text, Error, SolutionLabel, Next          string
	Prompt                                                          template.HTML
	Choices                                                         []choiceView
	Verdict                                                         *verdictView
}

// exerciseView builds the page of item n for learner. Choices are shown in an
// order shuffled per learner and item (so "the first is right" habits of
// authors show nothing), keeping their real indexes as form values.
func (s *Server) exerciseView(r *http.Request, ref exerciseRef, n int, it *learn.Item, learner string) *exerciseView {
	lang := s.lang(r)
	m := &ref.pack.Manifest
	first := m.Languages[0]
	pub := it.Public(ref.cl, first)
	v := &exerciseView{
		PackID: m.ID, PackTitle: m.Title.In(contentLang(lang, m.Languages), first), ContentLang: ref.cl,
		SetURL: setURL(m.ID, ref.info.ID), SetTitle: ref.info.Title.In(ref.cl, first),
		URL:      fmt.Sprintf("%s/%d", setURL(m.ID, ref.info.ID), n),
		Position: i18n.T(lang, "exercise.position", n, len(ref.set.Items)),
		Notices:  notices(lang, ref.cl, m),
		AnswerID: s.db.NewID(), Kind: string(pub.Kind), Unit: pub.Unit,
		Prompt:        packHTML(pub.Prompt, ref.pack),
		SolutionLabel: i18n.T(lang, "exercise.solution"),
	}
	if n < len(ref.set.Items) {
		v.Next = fmt.Sprintf("%s/%d", setURL(m.ID, ref.info.ID), n+1)
	}
	for i, c := range pub.Choices {
		v.Choices = append(v.Choices, choiceView{Index: i, Text: packHTML(c, ref.pack)})
	}
	h := fnv.New64a()
	h.Write([]byte(learner + "\x00" + m.ID + "\x00" + ref.info.ID + "\x00" + it.ID))
	rng := rand.New(rand.NewPCG(h.Sum64(), 0))
	rng.Shuffle(len(v.Choices), func(i, j int) { v.Choices[i], v.Choices[j] = v.Choices[j], v.Choices[i] })
	return v
}

func (s *Server) handleExercise(w http.ResponseWriter, r *http.Request) {
	ref, n, it, err := s.item(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	learner := s.learner(w, r, false)
	v := s.exerciseView(r, ref, n, it, learner)
	if id := r.URL.Query().Get("answer"); id != "" {
		a, _, err := s.db.AnswerOf(r.Context(), learner, id)
		if err != nil || learner == "" || a.Pack != ref.pack.Manifest.ID || a.Set != ref.info.ID || a.Item != it.ID {
			s.fail(w, r, failure.Errorf(failure.NotFound, "%s", i18n.T(s.lang(r), "error.no_answer")))
			return
		}
		s.showVerdict(r, v, ref, it, learner, a)
	}
	s.render(w, r, http.StatusOK, "exercise", i18n.T(s.lang(r), "exercise.title", n), true, v)
}

// showVerdict fills the verdict of a stored answer into the page: the stored
// grade, with feedback in the language of the page.
func (s *Server) showVerdict(r *http.Request, v *exerciseView, ref exerciseRef, it *learn.Item, learner string, a event.Answer) {
	lang := s.lang(r)
	vd := &verdictView{Correct: a.Correct}
	switch {
	case !it.Kind.Graded():
		vd.Headline = i18n.T(lang, "verdict.recorded")
	case a.Correct:
		vd.Headline = i18n.T(lang, "verdict.correct")
	case a.Score > 0:
		vd.Headline = i18n.T(lang, "verdict.partly", int(a.Score*100+0.5))
	default:
		vd.Headline = i18n.T(lang, "verdict.wrong")
	}
	graded, err := learn.Grade(it, learn.Response{Choices: a.Choices, Text: a.Text}, ref.cl, ref.pack.Manifest.Languages[0])
	if err == nil {
		for _, f := range graded.Feedback {
			vd.Feedback = append(vd.Feedback, packHTML(f, ref.pack))
		}
		// The answer is shown once it was found, or after two tries.
		p, _ := s.db.SetProgress(r.Context(), learner, ref.pack.Manifest.ID, ref.info.ID)
		if it.Kind.Graded() && (a.Correct || p[it.ID].Attempts >= 2) {
			vd.Solution = template.HTML(translateSolution(lang, it, graded.Solution))
		}
	}
	v.Verdict = vd
	v.Text = a.Text
	for i := range v.Choices {
		v.Choices[i].Checked = slices.Contains(a.Choices, v.Choices[i].Index)
	}
}

func translateSolution(lang string, it *learn.Item, sol string) string {
	if it.Kind == learn.TrueFalse {
		return template.HTMLEscapeString(i18n.T(lang, "exercise."+sol))
	}
	return sol
}

// responseError translates a response that is not an answer for the student.
func responseError(lang string, err error) string {
	for _, e := range []struct {
		err error
		key string
	}{
		{learn.ErrEmpty, "answer.empty"},
		{learn.ErrNotANumber, "answer.not_a_number"},
		{learn.ErrAmbiguousNumber, "answer.ambiguous_number"},
		{learn.ErrUnexpectedUnit, "answer.unexpected_unit"},
		{learn.ErrBadChoice, "answer.bad_choice"},
		{learn.ErrBadResponse, "answer.bad_response"},
	} {
		if errors.Is(err, e.err) {
			return i18n.T(lang, e.key)
		}
	}
	return ""
}

// handleAnswerForm grades and stores an answer posted by the exercise form,
// then shows the verdict (POST, redirect, GET: reloading the page never
// answers twice, and the form's id makes a double submit count once).
func (s *Server) handleAnswerForm(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, failure.Wrap(failure.Invalid, err, i18n.T(s.lang(r), "error.bad_form")))
		return
	}
	ref, n, it, err := s.item(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	learner := s.learner(w, r, true)
	resp := learn.Response{Text: strings.TrimSpace(r.PostForm.Get("text"))}
	for _, c := range r.PostForm["choice"] {
		i, err := strconv.Atoi(c)
		if err != nil {
			i = -1 // graded as a bad choice
		}
		resp.Choices = append(resp.Choices, i)
	}
	ans, _, err := s.grade(r, ref, it, learner, resp, r.PostForm.Get("id"))
	if msg := responseError(s.lang(r), err); msg != "" {
		v := s.exerciseView(r, ref, n, it, learner)
		v.Error, v.Text = msg, resp.Text
		s.render(w, r, http.StatusUnprocessableEntity, "exercise", i18n.T(s.lang(r), "exercise.title", n), true, v)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("%s/%d?answer=%s", setURL(ref.pack.Manifest.ID, ref.info.ID), n, ans.ID), http.StatusSeeOther)
}

// grade grades a response and stores it durably. id is the answer's
// client-made id; a missing or malformed one gets a fresh id.
func (s *Server) grade(r *http.Request, ref exerciseRef, it *learn.Item, learner string, resp learn.Response, id string) (event.Answer, event.Event, error) {
	v, err := learn.Grade(it, resp, ref.cl, ref.pack.Manifest.Languages[0])
	if err != nil {
		return event.Answer{}, event.Event{}, err
	}
	if !event.ValidID(id) {
		id = ""
	}
	a := event.Answer{
		ID: id, Learner: learner, Pack: ref.pack.Manifest.ID, PackVersion: ref.pack.Manifest.Version,
		Set: ref.info.ID, Item: it.ID, Lang: ref.cl, Choices: resp.Choices, Text: resp.Text,
		Correct: v.Correct, Score: v.Score, Feedback: v.Feedback, Age: answerAge(r),
	}
	if !it.Kind.Graded() {
		a.Kind = event.QuestionPoll
	}
	ev, err := s.db.RecordAnswer(r.Context(), a)
	if err != nil {
		return event.Answer{}, event.Event{}, err
	}
	a.ID = ev.ID
	return a, ev, nil
}
