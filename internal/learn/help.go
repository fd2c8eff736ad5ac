package learn

// Tally is what a learner did in an exercise set, told apart from how far
// they are toward mastery: how many answers, how many right, and how many
// wrong in a row at the end.
type Tally struct {
	Attempts, Right, WrongRun int
}

// TallyOf counts results, oldest first.
func TallyOf(results []Result) Tally {
	var t Tally
	for _, r := range results {
		t.Attempts++
		if r.Correct {
			t.Right++
			t.WrongRun = 0
		} else {
			t.WrongRun++
		}
	}
	return t
}

// The rule of NeedsHelp, for pages that explain it.
const (
	HelpMinAttempts = 3 // answers before a low share of right ones counts
	HelpWrongRun    = 3 // wrong answers in a row that count at once
)

// NeedsHelp says whether a learner is struggling with a set (Kolibri's
// "needs help"): not mastered, and either at least HelpMinAttempts answers
// of which fewer than half are right, or the last HelpWrongRun answers all
// wrong. One wrong answer of two is not yet struggling; 1 right of 6 is.
func NeedsHelp(t Tally, s Status) bool {
	if s == Mastered {
		return false
	}
	lowShare := t.Attempts >= HelpMinAttempts && 2*t.Right < t.Attempts
	return lowShare || t.WrongRun >= HelpWrongRun
}
