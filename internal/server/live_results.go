package server

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/mitstem/stembox/internal/discovery"
	"github.com/mitstem/stembox/internal/event"
	"github.com/mitstem/stembox/internal/failure"
	"github.com/mitstem/stembox/internal/gradebook"
	"github.com/mitstem/stembox/internal/i18n"
	"github.com/mitstem/stembox/internal/learn"
	"github.com/mitstem/stembox/internal/live"
	"github.com/mitstem/stembox/internal/store"
)

// Results of a session, for its teacher: a table and a CSV file, read from
// the database, so they are there after the session ended and after the box
// restarted.

type liveResults struct {
	Code, Title, Phase string
	Questions          []string // short labels: "1. What is…"
	Rows               []liveResultRow
	Points             bool
}

type liveResultRow struct {
	Nickname string
	Removed  bool
	Cells    []liveCell
	Score    int
	Right    int
}

type liveCell struct {
	Answer   string
	Answered bool
	Correct  bool
	Poll     bool
	Points   int
}

// teacherSession returns the stored session named by the request, if the
// device holds its teacher's secret.
func (s *Server) teacherSession(r *http.Request) (store.LiveSession, error) {
	code, err := s.liveCode(r)
	if err != nil {
		return store.LiveSession{}, err
	}
	rec, err := s.db.LiveSessionByCode(r.Context(), code)
	if err != nil {
		return store.LiveSession{}, err
	}
	if live.HashToken(cookieValue(r, liveTeacherCookie+code)) != rec.TeacherHash {
		return store.LiveSession{}, failure.Errorf(failure.Unauthorized, "%s", i18n.T(s.lang(r), "live.not_teacher"))
	}
	return rec, nil
}

// plain turns an HTML fragment of a question into text for a table cell.
func plain(fragment string, n int) string {
	t := gradebook.PlainText(fragment)
	if r := []rune(t); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return t
}

func (s *Server) results(r *http.Request, rec store.LiveSession) (liveResults, error) {
	lang := s.lang(r)
	var qs []live.Question
	if err := json.Unmarshal(rec.Questions, &qs); err != nil {
		return liveResults{}, fmt.Errorf("server: questions of %s: %w", rec.Code, err)
	}
	var opts struct {
		Points bool `json:"points"`
	}
	json.Unmarshal(rec.Options, &opts)
	players, err := s.db.LivePlayers(r.Context(), rec.ID)
	if err != nil {
		return liveResults{}, err
	}
	responses, err := s.db.LiveResponses(r.Context(), rec.ID)
	if err != nil {
		return liveResults{}, err
	}
	res := liveResults{Code: rec.Code, Title: rec.Title, Phase: rec.Phase, Points: opts.Points}
	for i := range qs {
		res.Questions = append(res.Questions, fmt.Sprintf("%d. %s", i+1, plain(qs[i].Public().Prompt, 40)))
	}
	row := map[string]int{}
	for _, p := range players {
		row[p.ID] = len(res.Rows)
		res.Rows = append(res.Rows, liveResultRow{Nickname: p.Nickname, Removed: p.Removed, Cells: make([]liveCell, len(qs))})
	}
	for _, a := range responses {
		i, ok := row[a.Player]
		if !ok || a.Question < 0 || a.Question >= len(qs) {
			continue
		}
		q := &qs[a.Question]
		c := liveCell{Answered: true, Correct: a.Correct, Poll: q.Kind() == live.Poll, Points: a.Points, Answer: liveAnswerText(lang, q, a)}
		res.Rows[i].Cells[a.Question] = c
		res.Rows[i].Score += a.Points
		if a.Correct {
			res.Rows[i].Right++
		}
	}
	return res, nil
}

// liveAnswerText is an answer as the results show it: the letters and texts
// of the picked choices, true/false, or what was typed.
func liveAnswerText(lang string, q *live.Question, a event.LiveResponse) string {
	switch q.Kind() {
	case learn.Choice, learn.Multi, live.Poll:
		pub := q.Public()
		var parts []string
		for _, c := range a.Choices {
			if c >= 0 && c < len(pub.Choices) {
				parts = append(parts, string(rune('A'+c))+" "+plain(pub.Choices[c], 30))
			}
		}
		return strings.Join(parts, "; ")
	case learn.TrueFalse:
		return i18n.T(lang, "live."+strings.TrimSpace(a.Text))
	}
	return a.Text
}

func (s *Server) handleLiveResults(w http.ResponseWriter, r *http.Request) {
	rec, err := s.teacherSession(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	res, err := s.results(r, rec)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "live-results", i18n.T(s.lang(r), "live.results_title", rec.Title), false, res)
}

// handleLiveCSV exports the results: a row a player, a column group a
// question (answer, correct, points), then the totals.
func (s *Server) handleLiveCSV(w http.ResponseWriter, r *http.Request) {
	rec, err := s.teacherSession(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	res, err := s.results(r, rec)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	lang := s.lang(r)
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="live-`+rec.Code+`.csv"`)
	w.Header().Set("Cache-Control", "no-store")
	w.Write([]byte("\ufeff")) // so spreadsheet programs read UTF-8 (Cyrillic)
	cw := csv.NewWriter(w)
	head := []string{i18n.T(lang, "live.csv.nickname"), i18n.T(lang, "live.csv.removed")}
	for i := range res.Questions {
		n := strconv.Itoa(i + 1)
		head = append(head, i18n.T(lang, "live.csv.answer", n), i18n.T(lang, "live.csv.correct", n), i18n.T(lang, "live.csv.points", n))
	}
	head = append(head, i18n.T(lang, "live.csv.right"), i18n.T(lang, "live.csv.score"))
	cw.Write(head)
	for _, row := range res.Rows {
		line := []string{csvSafe(row.Nickname), yesNo(row.Removed)}
		for _, c := range row.Cells {
			correct := ""
			if c.Answered && !c.Poll {
				correct = yesNo(c.Correct)
			}
			line = append(line, csvSafe(c.Answer), correct, strconv.Itoa(c.Points))
		}
		line = append(line, strconv.Itoa(row.Right), strconv.Itoa(row.Score))
		cw.Write(line)
	}
	cw.Flush()
}

func yesNo(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// csvSafe keeps a spreadsheet from reading a cell a student typed as a
// formula.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// handleLiveQR draws the QR code of the join link as SVG.
func (s *Server) handleLiveQR(w http.ResponseWriter, r *http.Request) {
	info, err := s.liveInfo(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	join, _ := s.joinURLs(r, info.Code)
	qr, err := discovery.NewQR(join)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "image/svg+xml")
	w.Header().Set("Cache-Control", "no-store")
	w.Write([]byte(qr.SVG(join)))
}
