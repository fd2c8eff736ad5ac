package learn

import "testing"

func TestNeedsHelp(t *testing.T) {
	for _, c := range []struct {
		answers string // oldest first, 1 right, 0 wrong
		status  Status
		tally   Tally
		want    bool
	}{
		{"", NotStarted, Tally{}, false},
		{"111", Mastered, Tally{3, 3, 0}, false},
		{"10", Started, Tally{2, 1, 1}, false},           // 1 of 2: too early to tell
		{"00", Started, Tally{2, 0, 2}, false},           // two wrong: not yet
		{"100000", Started, Tally{6, 1, 5}, true},        // 1 of 6
		{"000", Started, Tally{3, 0, 3}, true},           // three wrong in a row
		{"110", Started, Tally{3, 2, 1}, false},          // 2 of 3
		{"1100", Started, Tally{4, 2, 2}, false},         // half right is not fewer than half
		{"11000", Started, Tally{5, 2, 3}, true},         // 2 of 5, and 3 wrong in a row
		{"1111000", Started, Tally{7, 4, 3}, true},       // most right, but the last three wrong
		{"0000011110", Mastered, Tally{10, 4, 1}, false}, // mastered: never flagged
		{"0001", Started, Tally{4, 1, 0}, true},          // 1 of 4, though the last was right
	} {
		got := TallyOf(results("abc", c.answers))
		if got != c.tally {
			t.Errorf("TallyOf(%q) = %+v, want %+v", c.answers, got, c.tally)
		}
		if h := NeedsHelp(got, c.status); h != c.want {
			t.Errorf("NeedsHelp(%q, %v) = %v, want %v", c.answers, c.status, h, c.want)
		}
	}
}
