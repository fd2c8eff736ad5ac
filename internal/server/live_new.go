package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/mitstem/stembox/internal/failure"
	"github.com/mitstem/stembox/internal/i18n"
	"github.com/mitstem/stembox/internal/learn"
	"github.com/mitstem/stembox/internal/live"
)

// The form that makes a live session: from an exercise set of an installed
// pack, or from questions typed into it. It works without JavaScript (a few
// blank question blocks); live-new.js adds blocks and hides the fields a kind of
// question does not use.

const blankBlocks = 3 // question blocks shown empty in a new form

// liveSetOption is an exercise set to start a session from, under its
// pack's title (an optgroup): the set's own title comes first, so that a
// pack's sets do not all read the same on a narrow phone.
type liveSetOption struct {
	Value, Label string
	Items        int
}

type liveSetGroup struct {
	Title string // the pack's
	Sets  []liveSetOption
}

type liveBlock struct {
	N                                               int // 1-based
	Kind, Prompt, Choices, Truth, Number, Tolerance string
	Unit, Answers                                   string
}

type liveNewView struct {
	Sets                                        []liveSetGroup
	Source, Set, Title, Error                   string
	Timer                                       int
	Points, OnDevices, LateJoin, GeneratedNames bool
	Timers                                      []int
	Blocks                                      []liveBlock
	Kinds                                       []string
	Mine                                        []liveMine
}

func (s *Server) liveNewView(r *http.Request) liveNewView {
	lang := s.lang(r)
	v := liveNewView{Source: "adhoc", Timer: 30, Points: true, OnDevices: true, LateJoin: true,
		Timers: []int{0, 10, 20, 30, 45, 60, 90, 120, 300},
		Kinds:  []string{"choice", "multi", "truefalse", "numeric", "text", "poll"},
		Mine:   s.mySessions(r)}
	for _, p := range s.lib.Packs() {
		m := &p.Manifest
		g := liveSetGroup{Title: m.Title.In(contentLang(lang, m.Languages), m.Languages[0])}
		for _, si := range m.Sets {
			st := si.Title.In(contentLang(lang, si.Languages), m.Languages[0])
			g.Sets = append(g.Sets, liveSetOption{Value: m.ID + "/" + si.ID, Label: st, Items: si.Items})
		}
		if len(g.Sets) > 0 {
			v.Sets = append(v.Sets, g)
		}
	}
	if len(v.Sets) > 0 {
		v.Source = "set"
	}
	return v
}

func (s *Server) handleLiveNew(w http.ResponseWriter, r *http.Request) {
	v := s.liveNewView(r)
	if set := r.URL.Query().Get("set"); set != "" { // from a set's page (the studio's "run as a live quiz")
		v.Source, v.Set = "set", set
	}
	for i := 1; i <= blankBlocks; i++ {
		v.Blocks = append(v.Blocks, liveBlock{N: i, Kind: "choice"})
	}
	s.render(w, r, http.StatusOK, "live-new", i18n.T(s.lang(r), "live.new_title"), false, v)
}

// handleLiveCreate makes the session and opens its control page.
func (s *Server) handleLiveCreate(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, failure.Wrap(failure.Invalid, err, i18n.T(s.lang(r), "error.bad_form")))
		return
	}
	lang := s.lang(r)
	f := r.PostForm
	v := s.liveNewView(r)
	v.Source, v.Set, v.Title = f.Get("source"), f.Get("set"), strings.TrimSpace(f.Get("title"))
	v.Timer, _ = strconv.Atoi(f.Get("timer"))
	v.Points, v.OnDevices, v.LateJoin, v.GeneratedNames = f.Get("points") != "", f.Get("on_devices") != "", f.Get("late_join") != "", f.Get("generated_names") != ""
	v.Blocks = formBlocks(f)

	spec := live.Spec{Title: v.Title, Lang: lang, Opts: live.Options{Timer: time.Duration(min(max(v.Timer, 0), 3600)) * time.Second,
		Points: v.Points, OnDevices: v.OnDevices, LateJoin: v.LateJoin, GeneratedNames: v.GeneratedNames}}
	var err error
	if v.Source == "set" {
		spec.Questions, spec.Title, err = s.setQuestions(lang, v.Set, v.Title)
	} else {
		spec.Questions, err = blockQuestions(lang, v.Blocks)
		if spec.Title == "" {
			spec.Title = i18n.T(lang, "live.default_title")
		}
	}
	if err == nil && len(spec.Questions) == 0 {
		err = fmt.Errorf("%s", i18n.T(lang, "live.err.no_questions"))
	}
	if err != nil {
		v.Error = err.Error()
		for len(v.Blocks) < blankBlocks {
			v.Blocks = append(v.Blocks, liveBlock{N: len(v.Blocks) + 1, Kind: "choice"})
		}
		s.render(w, r, http.StatusUnprocessableEntity, "live-new", i18n.T(lang, "live.new_title"), false, v)
		return
	}
	if len([]rune(spec.Title)) > 120 {
		spec.Title = string([]rune(spec.Title)[:120])
	}
	ctx, cancel := context.WithTimeout(r.Context(), 30*time.Second)
	defer cancel()
	created, err := s.live.Create(ctx, spec)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	setLiveCookie(w, r, liveTeacherCookie+created.Code, created.Token)
	http.Redirect(w, r, "/live/"+created.Code+"/control?k="+created.Token, http.StatusSeeOther)
}

// setQuestions are the items of an exercise set ("pack/set"), in the
// language the set is shown in.
func (s *Server) setQuestions(lang, ref, title string) ([]live.Question, string, error) {
	packID, setID, _ := strings.Cut(ref, "/")
	p, ok := s.lib.Pack(packID)
	if !ok {
		return nil, "", fmt.Errorf("%s", i18n.T(lang, "error.no_pack", packID))
	}
	for _, si := range p.Manifest.Sets {
		if si.ID != setID {
			continue
		}
		cl := contentLang(lang, si.Languages)
		fallback := p.Manifest.Languages[0]
		if title == "" {
			title = si.Title.In(cl, fallback)
		}
		var qs []live.Question
		for _, it := range p.Sets[setID].Items {
			if len(qs) == live.MaxQuestions {
				break
			}
			qs = append(qs, live.Question{Item: withPackLinks(it, p), Lang: cl, Fallback: fallback,
				Pack: p.Manifest.ID, PackVersion: p.Manifest.Version, Set: setID})
		}
		return qs, title, nil
	}
	return nil, "", fmt.Errorf("%s", i18n.T(lang, "error.no_set", setID))
}

// formBlocks reads the question blocks of the form (q1_kind, q1_prompt, …).
func formBlocks(f map[string][]string) []liveBlock {
	get := func(k string) string {
		if v := f[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	var out []liveBlock
	for i := 1; i <= live.MaxQuestions; i++ {
		p := "q" + strconv.Itoa(i) + "_"
		if _, ok := f[p+"kind"]; !ok {
			break
		}
		out = append(out, liveBlock{N: i, Kind: get(p + "kind"), Prompt: get(p + "prompt"), Choices: get(p + "choices"),
			Truth: get(p + "truth"), Number: get(p + "number"), Tolerance: get(p + "tolerance"), Unit: get(p + "unit"),
			Answers: get(p + "answers")})
	}
	return out
}

// blockQuestions turns the typed blocks into questions; blocks left empty
// are skipped. Choices are one a line, the right ones marked with "*".
func blockQuestions(lang string, blocks []liveBlock) ([]live.Question, error) {
	var qs []live.Question
	for _, b := range blocks {
		if strings.TrimSpace(b.Prompt) == "" {
			continue
		}
		a := live.AdHoc{Kind: learn.Kind(b.Kind), Prompt: b.Prompt, Truth: b.Truth == "true",
			Number: b.Number, Tolerance: b.Tolerance, Unit: b.Unit}
		for _, line := range strings.Split(b.Choices, "\n") {
			line = strings.TrimSpace(line)
			if line == "" {
				continue
			}
			if rest, ok := strings.CutPrefix(line, "*"); ok {
				a.Correct = append(a.Correct, len(a.Choices))
				line = strings.TrimSpace(rest)
			}
			a.Choices = append(a.Choices, line)
		}
		a.Answers = strings.Split(b.Answers, "\n")
		q, err := a.Question(fmt.Sprintf("q%d", len(qs)+1), lang)
		if err != nil {
			why := i18n.T(lang, "live.q.invalid")
			var le *live.Error
			if errors.As(err, &le) {
				why = i18n.T(lang, "live."+le.Code)
			}
			return nil, fmt.Errorf("%s", i18n.T(lang, "live.err.question", b.N, why))
		}
		qs = append(qs, q)
	}
	return qs, nil
}
