package learn

import (
	"fmt"
	"strconv"
	"strings"
)

// MasteryRule says when a learner has mastered an exercise set.
type MasteryRule struct {
	Kind string // "all", "streak" or "last"
	M, N int    // streak: N in a row; last: M of the last N
}

// DefaultMastery is 4 correct of the last 5 answers.
var DefaultMastery = MasteryRule{Kind: "last", M: 4, N: 5}

// String writes the rule as stored: "all", "streak:N" or "last:M/N".
func (r MasteryRule) String() string {
	switch r.Kind {
	case "all":
		return "all"
	case "streak":
		return "streak:" + strconv.Itoa(r.N)
	}
	return fmt.Sprintf("last:%d/%d", r.M, r.N)
}

// ParseMasteryRule reads a rule written by String.
func ParseMasteryRule(s string) (MasteryRule, error) {
	switch {
	case s == "all":
		return MasteryRule{Kind: "all"}, nil
	case strings.HasPrefix(s, "streak:"):
		n, err := strconv.Atoi(strings.TrimPrefix(s, "streak:"))
		if err != nil || n < 1 || n > 50 {
			return MasteryRule{}, fmt.Errorf("a streak is 1 to 50 correct answers in a row")
		}
		return MasteryRule{Kind: "streak", M: n, N: n}, nil
	case strings.HasPrefix(s, "last:"):
		a, b, ok := strings.Cut(strings.TrimPrefix(s, "last:"), "/")
		m, err1 := strconv.Atoi(a)
		n, err2 := strconv.Atoi(b)
		if !ok || err1 != nil || err2 != nil || n < 1 || n > 50 || m < 1 || m > n {
			return MasteryRule{}, fmt.Errorf("write the rule as M correct of the last N answers, 1 ≤ M ≤ N ≤ 50")
		}
		return MasteryRule{Kind: "last", M: m, N: n}, nil
	}
	return MasteryRule{}, fmt.Errorf("unknown mastery rule %q", s)
}

// Result is one answer in a set, oldest first in the slices below.
type Result struct {
	Item    string
	Correct bool
}

// Status is how far a learner is with a set.
type Status int

// Statuses, from nothing to mastered.
const (
	NotStarted Status = iota
	Started
	Mastered
)

// Mastery tells a learner's status in a set of items from their answers,
// oldest first, and the fraction of the way to mastery (0 to 1) for
// pictures. items is the set's item ids (for the "all" rule).
func (r MasteryRule) Mastery(results []Result, items []string) (Status, float64) {
	if len(results) == 0 {
		return NotStarted, 0
	}
	var done float64
	switch r.Kind {
	case "all":
		latest := map[string]bool{}
		for _, res := range results {
			latest[res.Item] = res.Correct
		}
		right := 0
		for _, it := range items {
			if latest[it] {
				right++
			}
		}
		if len(items) == 0 {
			return Started, 0
		}
		done = float64(right) / float64(len(items))
	case "streak":
		run := 0
		for i := len(results) - 1; i >= 0 && results[i].Correct; i-- {
			run++
		}
		done = min(1, float64(run)/float64(r.N))
	default:
		start := max(0, len(results)-r.N)
		right := 0
		for _, res := range results[start:] {
			if res.Correct {
				right++
			}
		}
		done = min(1, float64(right)/float64(r.M))
	}
	if done >= 1 {
		return Mastered, 1
	}
	return Started, done
}

// AppMastered is the share of an app's score that masters it, with a
// result that says the app was completed.
const AppMastered = 0.8

// AppStatus is a learner's status on an app (a simulation) from the
// results it reported: how many, whether any said it was completed, and
// the best share of the score (1 for a completed app that gives none).
func AppStatus(results int, completed bool, best float64) Status {
	switch {
	case results == 0:
		return NotStarted
	case completed && best >= AppMastered:
		return Mastered
	}
	return Started
}
