package learn

import "testing"

func results(items string, correct string) []Result {
	var out []Result
	for i, c := range correct {
		out = append(out, Result{Item: string(items[i%len(items)]), Correct: c == '1'})
	}
	return out
}

func TestMastery(t *testing.T) {
	items := []string{"a", "b", "c"}
	for _, tc := range []struct {
		rule, answers string
		want          Status
		frac          float64
	}{
		{"last:4/5", "", NotStarted, 0},
		{"last:4/5", "1111", Mastered, 1},
		{"last:4/5", "111", Started, 0.75},
		{"last:4/5", "11011", Mastered, 1},
		{"last:4/5", "110010", Started, 0.5},
		{"last:4/5", "0000011110", Mastered, 1},   // 4 of the last 5
		{"last:4/5", "1111100100", Started, 0.25}, // only the last 5 count
		{"streak:3", "0111", Mastered, 1},
		{"streak:3", "1110", Started, 0},
		{"streak:3", "0011", Started, 2.0 / 3},
		{"all", "111", Mastered, 1},       // a, b, c each right
		{"all", "1101", Started, 2.0 / 3}, // a, b right, c wrong, then a right
		{"all", "110111", Mastered, 1},
	} {
		rule, err := ParseMasteryRule(tc.rule)
		if err != nil {
			t.Fatal(err)
		}
		got, frac := rule.Mastery(results("abc", tc.answers), items)
		if got != tc.want || frac < tc.frac-1e-9 || frac > tc.frac+1e-9 {
			t.Errorf("%s with %q = %v, %.3f; want %v, %.3f", tc.rule, tc.answers, got, frac, tc.want, tc.frac)
		}
		if rule.String() != tc.rule {
			t.Errorf("rule %q prints as %q", tc.rule, rule.String())
		}
	}
	for _, bad := range []string{"", "last:6/5", "last:0/5", "last:4", "streak:0", "streak:x", "most"} {
		if _, err := ParseMasteryRule(bad); err == nil {
			t.Errorf("rule %q accepted", bad)
		}
	}
}

func TestAppStatus(t *testing.T) {
	for _, c := range []struct {
		results   int
		completed bool
		best      float64
		want      Status
	}{
		{0, false, 0, NotStarted},
		{1, false, 1, Started},
		{2, true, 0.5, Started},
		{1, true, 0.8, Mastered},
		{3, true, 1, Mastered},
	} {
		if got := AppStatus(c.results, c.completed, c.best); got != c.want {
			t.Errorf("AppStatus(%d, %v, %g) = %v, want %v", c.results, c.completed, c.best, got, c.want)
		}
	}
}
