package live

import (
	"slices"
	"sort"
	"strconv"

	"github.com/mitstem/stembox/internal/learn"
)

// Answered counts the stored answers to question q of players still in the
// session.
func (s *Session) Answered(q int) int {
	if q < 0 || q >= len(s.answers) {
		return 0
	}
	n := 0
	for pid, a := range s.answers[q] {
		if a.Stored && !s.players[pid].Removed {
			n++
		}
	}
	return n
}

// Bar is one bar of the chart of a question's answers.
type Bar struct {
	Label   string `json:"label"` // an option's index ("0", "1", …), "true"/"false", or a typed answer
	Count   int    `json:"count"`
	Correct bool   `json:"correct"`
}

// maxTypedBars is how many distinct typed answers the chart shows; the rest
// are counted together.
const maxTypedBars = 6

// Other is the label of the bar of typed answers that did not get a bar of
// their own.
const Other = "…"

// Distribution counts the stored answers to question q, for the chart
// shown after the reveal: one bar per option, true and false, or the most
// frequent typed answers (normalised) with the rest together as Other.
func (s *Session) Distribution(q int) []Bar {
	if q < 0 || q >= len(s.Questions) {
		return nil
	}
	question := &s.Questions[q]
	var bars []Bar
	switch question.Kind() {
	case learn.Choice, learn.Multi, Poll:
		right := question.RightChoices()
		for i := range question.Item.Choices {
			bars = append(bars, Bar{Label: strconv.Itoa(i), Correct: slices.Contains(right, i)})
		}
		s.eachStored(q, func(a *Answer) {
			for _, c := range a.Response.Choices {
				if c >= 0 && c < len(bars) {
					bars[c].Count++
				}
			}
		})
	case learn.TrueFalse:
		bars = []Bar{{Label: "true", Correct: question.Item.Truth}, {Label: "false", Correct: !question.Item.Truth}}
		s.eachStored(q, func(a *Answer) {
			if a.Response.Text == "false" {
				bars[1].Count++
			} else {
				bars[0].Count++
			}
		})
	default:
		counts := map[string]*Bar{}
		s.eachStored(q, func(a *Answer) {
			key := learn.NormalizeText(a.Response.Text)
			b, ok := counts[key]
			if !ok {
				b = &Bar{Label: key, Correct: a.Correct}
				counts[key] = b
			}
			b.Count++
		})
		for _, b := range counts {
			bars = append(bars, *b)
		}
		sort.Slice(bars, func(i, j int) bool {
			if bars[i].Count != bars[j].Count {
				return bars[i].Count > bars[j].Count
			}
			return bars[i].Label < bars[j].Label
		})
		if len(bars) > maxTypedBars {
			rest := Bar{Label: Other}
			for _, b := range bars[maxTypedBars-1:] {
				rest.Count += b.Count
			}
			bars = append(bars[:maxTypedBars-1], rest)
		}
	}
	return bars
}

func (s *Session) eachStored(q int, f func(*Answer)) {
	for pid, a := range s.answers[q] {
		if a.Stored && !s.players[pid].Removed {
			f(a)
		}
	}
}

// Standing is a player's place on the leaderboard.
type Standing struct {
	Player   string `json:"player"`
	Nickname string `json:"nickname"`
	Score    int    `json:"score"`
	Rank     int    `json:"rank"` // 1 for the best; equal scores share a rank
}

// Leaderboard ranks the players still in the session by score, best first
// (equal scores by joining order).
func (s *Session) Leaderboard() []Standing {
	players := s.Players()
	sort.SliceStable(players, func(i, j int) bool { return players[i].Score > players[j].Score })
	out := make([]Standing, len(players))
	for i, p := range players {
		out[i] = Standing{Player: p.ID, Nickname: p.Nickname, Score: p.Score, Rank: i + 1}
		if i > 0 && p.Score == out[i-1].Score {
			out[i].Rank = out[i-1].Rank
		}
	}
	return out
}
